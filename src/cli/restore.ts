import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { importKeyBackup, restoreBackup } from '../backup/index.js';
import { output } from './common.js';
import { withProgress } from './progress.js';
import { readKeyFile, recoverySecret } from './recovery-secret.js';

interface RestoreOpts {
  from: string;
  to: string;
  at?: string;
  key?: string;
  keyBackup?: string;
  passphraseStdin?: boolean;
  recoveryKey?: string;
  masterKey?: string;
  json?: boolean;
}

/** The master key of the backed-up data: from a key backup (with its secret) or a master key file. */
async function masterKeyOf(opts: RestoreOpts): Promise<Buffer> {
  if ((opts.keyBackup === undefined) === (opts.masterKey === undefined)) throw new VigilError('ERR_CONFIG', 'Give the master key: --key-backup FILE (with --passphrase-stdin or --recovery-key FILE) or --master-key FILE');
  if (opts.masterKey !== undefined) return readKeyFile(opts.masterKey, 'master key');
  return importKeyBackup(readFileSync(opts.keyBackup ?? '', 'utf8'), await recoverySecret(opts)).master;
}

function parseTime(text: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(at.getTime())) throw new VigilError('ERR_CONFIG', '--at must be an ISO 8601 date-time, e.g. 2025-03-01T12:00:00Z');
  return at;
}

/** `vigil restore --from DIR [--at TIME] --to NEWDIR`: point-in-time restore into a new data directory. */
export function restoreCommand(program: Command): void {
  program
    .command('restore')
    .description('restore a backup set into a new data directory, optionally as of a time; then verify it')
    .requiredOption('--from <dir>', 'the backup set directory')
    .requiredOption('--to <dir>', 'a new, empty data directory')
    .option('--at <time>', 'restore the state as of this ISO 8601 time (default: the newest backup)')
    .option('--key <pubkey>', 'the backup public key to trust (`vigil backup key`)')
    .option('--key-backup <file>', 'the key backup made by `vigil keys export`')
    .option('--passphrase-stdin', "read the key backup's passphrase from standard input")
    .option('--recovery-key <file>', "the key backup's recovery key file")
    .option('--master-key <file>', 'a master key file instead of a key backup')
    .option('--json', 'print JSON')
    .action(async (opts: RestoreOpts) => {
      const masterKey = await masterKeyOf(opts);
      const result = await withProgress('restore', 'resources', (onProgress) =>
        restoreBackup({
          from: resolve(opts.from),
          to: resolve(opts.to),
          masterKey,
          env: process.env,
          ...(opts.at === undefined ? {} : { at: parseTime(opts.at) }),
          ...(opts.key === undefined ? {} : { key: opts.key }),
          onProgress,
        }),
      );
      const human = [
        `restored ${result.backups.length} backup(s) into ${result.to}${result.at === null ? '' : ` as of ${result.at}`}: ${result.versions} versions, ${result.audit} audit entries, ${result.resources} resources (${result.reindexed} re-indexed)`,
        `newest entry kept: ${result.lastWriteAt ?? 'none'}; log of ${result.leaves} leaves`,
        result.checkpoint.signedNew ? `signed a new checkpoint over the restored prefix (${result.checkpoint.size} leaves)` : `checkpoint of ${result.checkpoint.size} leaves ${result.checkpoint.matchesBackup ? "matches the backup's" : 'restored'}`,
        result.verify.ok ? `vigil verify: ok (${result.verify.leaves} leaves)` : `vigil verify: BROKEN (${result.verify.firstBroken?.detail ?? '?'})`,
        `${result.seconds} s, ${result.resourcesPerSecond} resources/s`,
      ].join('\n');
      output(opts.json === true, result, human);
      if (!result.ok) process.exitCode = 1;
    });
}
