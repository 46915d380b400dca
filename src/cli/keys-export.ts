import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { Keyring, loadOrCreateMasterKey } from '../crypto/index.js';
import { openStore, SQLITE_FILE } from '../store/index.js';
import { exportKeyBackup, importKeyBackup, masterKeyId } from '../backup/index.js';
import { configFrom, dataOption, output } from './common.js';
import { recoverySecret } from './recovery-secret.js';

interface SecretOpts {
  data?: string;
  passphraseStdin?: boolean;
  recoveryKey?: string;
  json?: boolean;
}

/**
 * `vigil keys export|import`: the key backup, kept apart from the data backups. Export seals the
 * master key under a recovery passphrase or recovery key; import writes it into a data directory.
 */
export function keysExportCommands(program: Command): void {
  const keys = program.commands.find((c) => c.name() === 'keys') ?? program.command('keys');

  dataOption(keys.command('export').description('write the master key, sealed under a recovery passphrase or recovery key, to a key backup file'))
    .requiredOption('--to <file>', 'the key backup file (never overwritten)')
    .option('--passphrase-stdin', 'read the recovery passphrase (12 characters or more) from standard input')
    .option('--recovery-key <file>', 'seal under this recovery key file; created (32 random bytes) when missing')
    .option('--json', 'print JSON')
    .action(async (opts: SecretOpts & { to: string }) => {
      const config = configFrom(opts);
      const master = loadOrCreateMasterKey(config.masterKeyFile, config.masterKey, false);
      let createdRecoveryKey = false;
      if (opts.recoveryKey !== undefined && !existsSync(opts.recoveryKey)) {
        writeFileSync(opts.recoveryKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
        createdRecoveryKey = true;
      }
      const keyId = masterKeyId(master);
      writeFileSync(opts.to, exportKeyBackup(master, keyId, await recoverySecret(opts)), { mode: 0o600, flag: 'wx' });
      output(opts.json === true, { file: opts.to, keyId, recoveryKey: opts.recoveryKey ?? null, createdRecoveryKey }, `key backup of master key ${keyId} written to ${opts.to}${createdRecoveryKey ? `; new recovery key in ${opts.recoveryKey ?? ''}: keep it apart from the key backup and the data backups` : ''}`);
    });

  dataOption(keys.command('import').description('restore the master key of a data directory from a key backup file'))
    .requiredOption('--from <file>', 'the key backup file')
    .option('--passphrase-stdin', 'read the recovery passphrase from standard input')
    .option('--recovery-key <file>', 'the recovery key file')
    .option('--json', 'print JSON')
    .action(async (opts: SecretOpts & { from: string }) => {
      const config = configFrom(opts);
      const { master, keyId } = importKeyBackup(readFileSync(opts.from, 'utf8'), await recoverySecret(opts));
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      if (existsSync(config.masterKeyFile)) throw new VigilError('ERR_CONFIG', `${config.masterKeyFile} exists already; refusing to overwrite a master key`);
      // When the directory holds a store, the key must open its data keys before it is written.
      if (existsSync(join(config.dataDir, SQLITE_FILE))) {
        const store = openStore(config.dataDir);
        try {
          await Keyring.open(master, store);
        } finally {
          await store.close();
        }
      }
      writeFileSync(config.masterKeyFile, `${master.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      output(opts.json === true, { keyId, file: config.masterKeyFile }, `master key ${keyId} written to ${config.masterKeyFile}`);
    });
}
