import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openVigil } from '../runtime/index.js';
import { verifyLog } from '../audit/verify.js';
import { openCheckpoint, parseVerifierKey, verifyInclusion } from '../audit/index.js';
import type { InclusionProofFile } from '../audit/log.js';
import { VigilError } from '../errors.js';
import { configFrom, dataOption, output } from './common.js';
import { progressBar } from './progress.js';

/** Checks a saved inclusion proof offline, with nothing but the log's public key. */
function verifyProofFile(path: string, key: string): { ok: boolean; position: number; size: number } {
  const file = JSON.parse(readFileSync(path, 'utf8')) as InclusionProofFile;
  const verifier = parseVerifierKey(key);
  try {
    const cp = openCheckpoint(file.checkpoint, { verifier, origin: file.origin });
    if (cp.size !== file.size) throw new VigilError('ERR_INTEGRITY');
    verifyInclusion(file.position - 1, file.size, Buffer.from(file.leafHash, 'base64'), file.proof.map((p) => Buffer.from(p, 'base64')), cp.rootHash);
    return { ok: true, position: file.position, size: file.size };
  } catch {
    return { ok: false, position: file.position, size: file.size };
  }
}

export function verifyCommand(program: Command): void {
  dataOption(program.command('verify').description('recompute every log leaf from the database and check the tree against the signed checkpoints'))
    .option('--json', 'print JSON')
    .option('--witness <file>', 'a witness file of checkpoints to check too (default: VIGIL_WITNESS_FILE)')
    .option('--witness-url <url>', "a remote witness to check too: GET answers its newest checkpoint as JSON {origin, size, note} (https, or http on loopback)")
    .option('--proof <file>', 'check a saved inclusion proof offline instead (needs --key)')
    .option('--key <verifier-key>', "the log's public key, as printed by `vigil log key`")
    .action(async (opts: { data?: string; json?: boolean; witness?: string; witnessUrl?: string; proof?: string; key?: string }) => {
      if (opts.proof !== undefined) {
        if (opts.key === undefined) throw new VigilError('ERR_CONFIG', 'vigil verify --proof needs --key (the log key you trust, from `vigil log key`)');
        const r = verifyProofFile(opts.proof, opts.key);
        output(opts.json === true, r, r.ok ? `the proof verifies: leaf ${r.position} is in the signed log of ${r.size} leaves` : 'the proof does NOT verify');
        if (!r.ok) process.exitCode = 1;
        return;
      }
      const config = configFrom(opts);
      const vigil = await openVigil(config);
      try {
        const total = await vigil.store.countLeaves();
        const bar = progressBar('verify', total);
        const witness = opts.witness ?? config.witnessFile;
        const log = vigil.log;
        const result = await verifyLog({
          store: vigil.store,
          tenant: config.tenant,
          origin: log.origin,
          verifier: parseVerifierKey(log.verifierKey),
          ...(witness === undefined ? {} : { witnessFile: witness }),
          ...(opts.witnessUrl === undefined ? {} : { witnessUrl: opts.witnessUrl }),
          onProgress: (done) => bar.update(done),
        }).finally(() => bar.stop());
        const human = result.ok
          ? `ok: ${result.leaves} leaves and ${result.checkpoints} checkpoints verify (${result.leavesPerSecond} leaves/s)`
          : `BROKEN at leaf ${result.firstBroken?.position ?? '?'} (${result.firstBroken?.kind ?? '?'}): ${result.firstBroken?.detail ?? ''}`;
        output(opts.json === true, result, human);
        if (!result.ok) process.exitCode = 1;
      } finally {
        await vigil.close();
      }
    });
}
