import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { VigilError } from '../errors.js';
import { openVigil } from '../runtime/index.js';
import { backupKeys, createBackup, verifyBackupSet } from '../backup/index.js';
import { configFrom, dataOption, output } from './common.js';
import { withProgress } from './progress.js';

/**
 * `vigil backup create|verify|key`: signed, content-addressed backups of a data directory, taken
 * while the server runs, and their offline check (docs/backup.md).
 */
export function backupCommand(program: Command): void {
  const backup = program.command('backup').description('signed, content-addressed backups: create, verify, key');

  dataOption(backup.command('create').description('back up the data directory into a backup set (incremental when the set has one to continue)'))
    .requiredOption('--to <dir>', 'the backup set directory (created when missing)')
    .option('--full', 'a full backup, even when the set has one to continue')
    .option('--incremental', 'an incremental backup (refused when the set has none to continue)')
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; to: string; full?: boolean; incremental?: boolean; json?: boolean }) => {
      if (opts.full === true && opts.incremental === true) throw new VigilError('ERR_CONFIG', 'Choose --full or --incremental, not both');
      const vigil = await openVigil(configFrom(opts));
      try {
        let result;
        try {
          const kind = opts.full === true ? 'full' : opts.incremental === true ? 'incremental' : 'auto';
          result = await withProgress('backup', 'resources', (onProgress) => createBackup(vigil, { to: resolve(opts.to), kind, onProgress }));
        } catch (err) {
          await record(vigil, '8', []);
          throw err;
        }
        await record(vigil, '0', [`backup/${result.id}`]);
        const human = [
          `${result.kind} backup ${result.id} in ${result.dir}${result.parent === null ? '' : ` (continues ${result.parent})`}`,
          `${result.versions} versions, ${result.audit} audit entries, ${result.leaves} leaves; ${result.resources} current resources`,
          `${result.newFiles} new of ${result.files} chunks, ${result.newBytes} new bytes; tree of ${result.tree.size} leaves signed`,
          `${result.seconds} s, ${result.resourcesPerSecond} resources/s`,
        ].join('\n');
        output(opts.json === true, result, human);
      } finally {
        await vigil.close();
      }
    });

  backup
    .command('verify <dir>')
    .description('check every file hash, manifest signature, incremental chain and the Merkle log, without the database')
    .option('--key <pubkey>', 'the backup public key to trust, from `vigil backup key` (default: the one the full backup names)')
    .option('--json', 'print JSON')
    .action((dir: string, opts: { key?: string; json?: boolean }) => {
      const result = withProgress('verify', 'bytes', (onProgress) => verifyBackupSet(resolve(dir), { ...(opts.key === undefined ? {} : { key: opts.key }), onProgress }));
      const lines = result.backups.map((b) => `${b.ok ? 'ok     ' : 'BROKEN '} ${b.id}${b.ok ? '' : `: ${b.problems.join('; ')}`}`);
      lines.push(...result.problems.map((p) => `BROKEN  ${p}`));
      lines.push(`${result.ok ? 'ok' : 'BROKEN'}: ${result.backups.length} backups, ${result.files} files, ${result.leaves} leaves, ${result.versions} versions replayed (${result.resourcesPerSecond} resources/s)`);
      if (result.keySource === 'manifest') lines.push('note: no --key given; the key the full backup names was trusted (pass --key from `vigil backup key`)');
      output(opts.json === true, result, lines.join('\n'));
      if (!result.ok) process.exitCode = 1;
    });

  dataOption(backup.command('key').description('print the public key that signs backup manifests (give it to whoever verifies backups)'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const key = backupKeys(vigil.keyring, vigil.config.tenant).key;
        output(opts.json === true, { key, log: vigil.log.verifierKey }, key);
      } finally {
        await vigil.close();
      }
    });
}

/** A backup is a security event: an audit entry naming the operator's account, for success and failure. */
async function record(vigil: Awaited<ReturnType<typeof openVigil>>, outcome: '0' | '8', entities: string[]): Promise<void> {
  await vigil.repository.trail.record({ type: 'security', subtype: 'backup-create', action: 'E', outcome, client: 'vigil-cli', user: `os:${userInfo().username}`, entities, patients: [] });
}
