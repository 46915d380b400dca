import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openVigil } from '../runtime/index.js';
import { configFrom, dataOption, output } from './common.js';

export function logCommand(program: Command): void {
  const log = program.command('log').description('the tamper-evident audit log: checkpoints, keys, proofs');

  dataOption(log.command('checkpoint').description('sign a checkpoint of the log now (also written to the witness file)'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const cp = await vigil.log.checkpoint();
        output(opts.json === true, { size: cp?.size ?? 0, note: cp?.note ?? null }, cp === undefined ? 'the log is empty' : cp.note);
      } finally {
        await vigil.close();
      }
    });

  dataOption(log.command('key').description("print the log's public verifier key (give it to auditors and witnesses)"))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        output(opts.json === true, { origin: vigil.log.origin, key: vigil.log.verifierKey }, vigil.log.verifierKey);
      } finally {
        await vigil.close();
      }
    });

  dataOption(log.command('proof').description('write an inclusion proof of one leaf against the latest checkpoint'))
    .requiredOption('--position <n>', '1-based position of the leaf')
    .option('--out <file>', 'write the proof here (else stdout)')
    .action(async (opts: { data?: string; position: string; out?: string }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const proof = await vigil.log.inclusion(Number(opts.position));
        const text = `${JSON.stringify(proof, null, 2)}\n`;
        if (opts.out === undefined) process.stdout.write(text);
        else writeFileSync(opts.out, text);
      } finally {
        await vigil.close();
      }
    });
}
