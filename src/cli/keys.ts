import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { openVigil, type Vigil } from '../runtime/index.js';
import { resourceContext } from '../crypto/index.js';
import { leafHash, rewrapLeafData } from '../audit/leaf.js';
import { configFrom, dataOption, output } from './common.js';
import { progressBar } from './progress.js';

const BATCH = 500;

/** Key operations are security events: each gets an audit entry naming the operator's account. */
async function keyEvent(vigil: Vigil, subtype: string, entities: string[]): Promise<void> {
  await vigil.repository.trail.record({ type: 'security', subtype, action: 'E', outcome: '0', client: 'vigil-cli', user: `os:${userInfo().username}`, entities, patients: [] });
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('manage encryption and token signing keys');

  dataOption(keys.command('list').description('list data key versions and signing keys'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const dataKeys = await vigil.store.listDataKeys();
        const signing = await vigil.store.listSigningKeys();
        const pending = await vigil.store.countVersionsBelowKey(vigil.keyring.currentVersion);
        const value = {
          currentDataKey: vigil.keyring.currentVersion,
          dataKeys: dataKeys.map((k) => ({ version: k.version, createdAt: k.createdAt })),
          versionsUnderOlderKeys: pending,
          signingKeys: signing.map((k) => ({ kid: k.kid, alg: k.alg, createdAt: k.createdAt })),
        };
        const human = [
          `data keys: ${value.dataKeys.map((k) => `v${k.version} (${k.createdAt})`).join(', ')}; current v${value.currentDataKey}`,
          `versions sealed under older keys: ${pending}${pending > 0 ? ' (run `vigil keys rewrap`)' : ''}`,
          `signing keys: ${value.signingKeys.map((k) => `${k.kid} ${k.alg} (${k.createdAt})`).join(', ')}`,
        ].join('\n');
        output(opts.json === true, value, human);
      } finally {
        await vigil.close();
      }
    });

  dataOption(keys.command('rotate').description('add a new data key version (new writes use it; old versions stay readable)'))
    .option('--signing', 'rotate the token signing key instead')
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; signing?: boolean; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        if (opts.signing === true) {
          const kid = await vigil.signingKeys.rotate();
          await keyEvent(vigil, 'signing-key-rotate', [`signing-key/${kid}`]);
          output(opts.json === true, { signingKey: kid }, `new signing key ${kid}; a running server signs with it within 5 seconds`);
        } else {
          const version = await vigil.keyring.rotate();
          await keyEvent(vigil, 'data-key-rotate', [`data-key/${version}`]);
          output(opts.json === true, { dataKeyVersion: version }, `data key v${version} added; a running server writes with it within 5 seconds`);
        }
      } finally {
        await vigil.close();
      }
    });

  dataOption(keys.command('rewrap').description('re-encrypt every version sealed under an older data key with the newest one'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const started = performance.now();
        const target = vigil.keyring.currentVersion;
        const total = await vigil.store.countVersionsBelowKey(target);
        const bar = progressBar('rewrap', total);
        let done = 0;
        let rewrapped = 0;
        let after = 0;
        for (;;) {
          const batch = await vigil.store.listVersionsBelowKey(target, after, BATCH);
          if (batch.length === 0) break;
          const items = batch.map((row) => {
            const context = resourceContext(row.tenant, row.type, row.id, row.versionId);
            const plain = vigil.keyring.decrypt(row.box, context);
            return { seq: row.seq, oldBox: row.box, box: vigil.keyring.encrypt(plain, context), keyVersion: target };
          });
          // Each batch is its own short transaction, so the running server keeps writing meanwhile.
          rewrapped += await vigil.store.replaceBoxes(items, (r) => leafHash(rewrapLeafData(r)));
          done += batch.length;
          after = batch[batch.length - 1]?.seq ?? after;
          bar.update(done);
        }
        bar.stop();
        const seconds = (performance.now() - started) / 1000;
        const value = { keyVersion: target, rewrapped, remaining: await vigil.store.countVersionsBelowKey(target), seconds: Math.round(seconds * 1000) / 1000 };
        await keyEvent(vigil, 'data-key-rewrap', [`data-key/${target}`]);
        output(opts.json === true, value, `re-encrypted ${rewrapped} versions under data key v${target} in ${value.seconds} s`);
      } finally {
        await vigil.close();
      }
    });
}
