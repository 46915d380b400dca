import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../config/index.js';
import { openVigil } from '../runtime/index.js';
import { processBundle } from '../fhir/index.js';
import { generateDataset } from '../synthetic/index.js';
import { startServer } from '../http/index.js';
import { SQLITE_FILE } from '../store/index.js';
import { verifyLog } from '../audit/verify.js';
import { parseVerifierKey } from '../audit/note-key.js';
import { createBackup, exportKeyBackup, importKeyBackup, masterKeyId, restoreBackup, type RestoreResult } from '../backup/index.js';

/** What `vigil drill ransomware --json` prints. */
export interface DrillReport {
  readonly workDir: string;
  readonly patients: number;
  readonly resourcesLoaded: number;
  readonly backup: { readonly id: string; readonly versions: number; readonly seconds: number };
  readonly attack: { readonly updates: number; readonly deletes: number; readonly succeeded: number; readonly refused: number; readonly statuses: Record<string, number> };
  /** The detection response seen at `GET /admin/mode` after the mass writes; `unavailable` when the server has no such endpoint. */
  readonly detection: { readonly mode: string; readonly reason: string | null; readonly flippedToReadOnly: boolean | null; readonly firstRefusedAfterWrites: number | null };
  readonly corruption: { readonly pagesOverwritten: number; readonly detected: boolean; readonly how: string };
  readonly restore: Pick<RestoreResult, 'ok' | 'versions' | 'resources' | 'seconds' | 'resourcesPerSecond' | 'checkpoint' | 'verify'>;
  /** From noticing the corruption to a verified, restored data directory (key recovery included). */
  readonly recoverySeconds: number;
  /** Versions written after the backup point: lost by restoring it (here: the attacker's writes). */
  readonly dataLost: { readonly versionsAfterBackup: number };
  readonly patientsBeforeAttack: number;
  readonly patientsAfterRestore: number;
}

async function activePatients(dataDir: string): Promise<number> {
  const vigil = await openVigil(loadConfig({}, { dataDir }));
  try {
    return (await vigil.store.listCurrent(1, 10_000_000)).filter((c) => c.type === 'Patient' && !c.deleted).length;
  } finally {
    await vigil.close();
  }
}

/**
 * The ransomware drill, on a throwaway data directory: load synthetic patients, back up, attack
 * through the API with a valid token, corrupt the database file, then recover from the backup
 * and the key backup alone, and measure it all.
 */
export async function runDrill(patients: number, logger: Logger, say: (line: string) => void): Promise<DrillReport> {
  const work = mkdtempSync(join(tmpdir(), 'vigil-drill-'));
  const dataDir = join(work, 'data');
  const config = loadConfig({ VIGIL_LOG_LEVEL: 'silent' }, { dataDir, port: 0 });
  const vigil = await openVigil(config, { create: true });
  say(`loading ${patients} synthetic patients into ${dataDir}`);
  let resourcesLoaded = 0;
  for (const file of generateDataset({ patients, seed: 'vigil-drill' })) {
    await processBundle(vigil.repository, file.bundle, { fhirBaseUrl: config.fhirBaseUrl, authorize: () => undefined, mayCreate: () => true, minimal: true });
    resourcesLoaded += (file.bundle.entry ?? []).length;
  }
  const patientsBeforeAttack = (await vigil.store.listCurrent(1, 10_000_000)).filter((c) => c.type === 'Patient' && !c.deleted).length;
  const server = await startServer(vigil, logger);
  const base = server.address;
  const backup = await createBackup(vigil, { to: join(work, 'backups'), kind: 'full' });
  say(`backup ${backup.id}: ${backup.versions} versions in ${backup.seconds} s`);
  const master = Buffer.from(readFileSync(config.masterKeyFile, 'utf8').trim(), 'base64');
  const passphrase = randomBytes(18).toString('base64');
  const keyBackup = exportKeyBackup(master, masterKeyId(master), { passphrase });

  // The attacker holds a valid token: the bootstrap admin's client credentials.
  const admin = JSON.parse(readFileSync(join(dataDir, 'bootstrap-admin.json'), 'utf8')) as { client_id: string; client_secret: string };
  const tokenRes = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${admin.client_id}:${admin.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const headers = { authorization: `Bearer ${token}` };
  const list = async (type: string): Promise<{ id: string; resourceType: string }[]> => {
    const r = await fetch(`${base}/fhir/${type}?_count=500`, { headers });
    return (((await r.json()) as { entry?: { resource: { id: string; resourceType: string } }[] }).entry ?? []).map((e) => e.resource);
  };
  const attack = { updates: 0, deletes: 0, succeeded: 0, refused: 0, statuses: {} as Record<string, number> };
  let firstRefused: number | null = null;
  const hit = async (method: 'PUT' | 'DELETE', url: string, body?: unknown): Promise<void> => {
    const r = await fetch(`${base}/fhir/${url}`, { method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/fhir+json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    await r.arrayBuffer();
    if (method === 'PUT') attack.updates += 1;
    else attack.deletes += 1;
    attack.statuses[String(r.status)] = (attack.statuses[String(r.status)] ?? 0) + 1;
    if (r.ok) attack.succeeded += 1;
    else {
      attack.refused += 1;
      firstRefused ??= attack.updates + attack.deletes;
    }
  };
  say('attacking: overwriting every patient, then deleting observations');
  for (const p of await list('Patient')) await hit('PUT', `Patient/${p.id}`, { resourceType: 'Patient', id: p.id, name: [{ family: 'ENCRYPTED', given: ['PAY-US'] }] });
  for (const o of await list('Observation')) await hit('DELETE', `Observation/${o.id}`);
  let detection: DrillReport['detection'] = { mode: 'unavailable', reason: null, flippedToReadOnly: null, firstRefusedAfterWrites: firstRefused };
  for (let i = 0; i < 10; i++) {
    const r = await fetch(`${base}/admin/mode`, { headers });
    if (r.status === 404) break;
    const m = (await r.json()) as { mode?: string; reason?: string };
    detection = { mode: m.mode ?? 'unknown', reason: m.reason ?? null, flippedToReadOnly: m.mode === 'read-only', firstRefusedAfterWrites: firstRefused };
    if (m.mode === 'read-only') break;
    await new Promise((res) => setTimeout(res, 300));
  }
  const versionsAfterBackup = (await vigil.store.readVersionsBySeq(backup.highWater.versionSeq + 1, 10_000_000)).length;
  await server.close();
  await vigil.close();

  // The payload: pages of the database file overwritten with random bytes.
  const dbFile = join(dataDir, SQLITE_FILE);
  const pages = Math.floor(statSync(dbFile).size / 4096);
  const fd = openSync(dbFile, 'r+');
  let pagesOverwritten = 0;
  for (let page = 1; page < pages; page += Math.max(1, Math.floor(pages / 16))) {
    writeSync(fd, randomBytes(4096), 0, 4096, page * 4096);
    pagesOverwritten += 1;
  }
  closeSync(fd);
  let how = 'not detected';
  try {
    const broken = await openVigil(loadConfig({}, { dataDir }));
    try {
      const v = await verifyLog({ store: broken.store, tenant: broken.config.tenant, origin: broken.log.origin, verifier: parseVerifierKey(broken.log.verifierKey) });
      how = v.ok ? 'not detected' : `vigil verify: ${v.firstBroken?.detail ?? 'broken'}`;
    } finally {
      await broken.close();
    }
  } catch (err) {
    how = `the data directory no longer opens (${(err as { code?: string }).code ?? (err as Error).message})`;
  }
  say(`corrupted ${pagesOverwritten} pages; ${how}`);

  // Recovery: from the backup set and the key backup alone, into a new directory.
  const t0 = performance.now();
  const restoredDir = join(work, 'restored');
  const restored = await restoreBackup({ from: join(work, 'backups'), to: restoredDir, masterKey: importKeyBackup(keyBackup, { passphrase }).master, env: {} });
  const recoverySeconds = Math.round(performance.now() - t0) / 1000;
  return {
    workDir: work,
    patients,
    resourcesLoaded,
    backup: { id: backup.id, versions: backup.versions, seconds: backup.seconds },
    attack,
    detection: { ...detection, firstRefusedAfterWrites: firstRefused },
    corruption: { pagesOverwritten, detected: how !== 'not detected', how },
    restore: { ok: restored.ok, versions: restored.versions, resources: restored.resources, seconds: restored.seconds, resourcesPerSecond: restored.resourcesPerSecond, checkpoint: restored.checkpoint, verify: restored.verify },
    recoverySeconds,
    dataLost: { versionsAfterBackup },
    patientsBeforeAttack,
    patientsAfterRestore: await activePatients(restoredDir),
  };
}
