/**
 * The backup part of `npm run bench` (`--part backup --patients N`): `--patients` synthetic
 * patients loaded through the code `vigil import` uses, then a full backup, an offline
 * `backup verify` and a restore with its `vigil verify`, each timed in process, in resources
 * (stored versions) per second. Everything stays in a temporary directory; every patient is synthetic.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { openVigil } from '../src/runtime/index.js';
import { createBackup, restoreBackup, verifyBackupSet } from '../src/backup/index.js';
import { importDataset } from './search-import.js';

/** What the backup part measured. */
export interface BackupBenchReport {
  readonly patients: number;
  /** Resource versions in the store (what backup, verify and restore move). */
  readonly versions: number;
  readonly bytes: number;
  readonly create: { readonly seconds: number; readonly resourcesPerSecond: number };
  readonly verify: { readonly seconds: number; readonly resourcesPerSecond: number; readonly ok: boolean };
  /** Restore, including its own check of the chain and `vigil verify` over the result. */
  readonly restore: { readonly seconds: number; readonly resourcesPerSecond: number; readonly ok: boolean };
}

export async function runBackupBench(tempDir: string, patients: number, progress: (line: string) => void): Promise<BackupBenchReport> {
  const dataDir = join(tempDir, 'backup-data');
  progress(`backup: importing ${patients} patients`);
  await importDataset(dataDir, patients, progress, join(tempDir, 'backup-work'));
  const set = join(tempDir, 'backup-set');
  const vigil = await openVigil(loadConfig({}, { dataDir }));
  let created;
  try {
    progress('backup: full backup');
    created = await createBackup(vigil, { to: set, kind: 'full' });
  } finally {
    await vigil.close();
  }
  progress('backup: backup verify');
  const verified = verifyBackupSet(set);
  progress('backup: restore (with vigil verify)');
  const master = Buffer.from(readFileSync(join(dataDir, 'master.key'), 'utf8').trim(), 'base64');
  const restored = await restoreBackup({ from: set, to: join(tempDir, 'backup-restored'), masterKey: master, env: {} });
  return {
    patients,
    versions: created.versions,
    bytes: created.bytes,
    create: { seconds: created.seconds, resourcesPerSecond: created.resourcesPerSecond },
    verify: { seconds: verified.seconds, resourcesPerSecond: verified.resourcesPerSecond, ok: verified.ok },
    restore: { seconds: restored.seconds, resourcesPerSecond: restored.resourcesPerSecond, ok: restored.ok },
  };
}

/** The lines of the bench table for this part. */
export function backupTable(r: BackupBenchReport): string[] {
  const n = (x: number): string => x.toLocaleString('en-US');
  return [
    `backup part: ${n(r.patients)} patients, ${n(r.versions)} resource versions, ${n(r.bytes)} bytes of chunks`,
    `  backup create   ${n(r.create.resourcesPerSecond).padStart(9)} resources/s  (${r.create.seconds} s)`,
    `  backup verify   ${n(r.verify.resourcesPerSecond).padStart(9)} resources/s  (${r.verify.seconds} s)${r.verify.ok ? '' : '  BROKEN'}`,
    `  restore         ${n(r.restore.resourcesPerSecond).padStart(9)} resources/s  (${r.restore.seconds} s, vigil verify included)${r.restore.ok ? '' : '  FAILED'}`,
  ];
}
