import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { openVigil } from '../runtime/index.js';
import { listHoneytokens, plantHoneytokens } from '../detect/index.js';
import { configFrom, dataOption, output } from './common.js';

/** `vigil honeytokens plant --count N` and `vigil honeytokens list`: decoy patients for the honeytoken rule. */
export function honeytokensCommand(program: Command): void {
  const cmd = program.command('honeytokens').description('decoy patient records that no legitimate work touches (any access raises a critical alert)');

  dataOption(cmd.command('plant').description('create decoy patients; they look like any other registration'))
    .requiredOption('--count <n>', 'how many decoys (1 to 1000)')
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; count: string; json?: boolean }) => {
      const count = /^[0-9]{1,4}$/.test(opts.count) ? Number(opts.count) : Number.NaN;
      if (!(count >= 1 && count <= 1000)) throw new VigilError('ERR_BAD_REQUEST', '--count must be a whole number from 1 to 1000');
      const vigil = await openVigil(configFrom(opts));
      try {
        // Written like an ordinary registration by the CLI, so the trail does not mark them as decoys.
        const ids = await plantHoneytokens(vigil.repository, vigil.records, count, () => ({
          type: 'rest',
          subtype: 'create',
          action: 'C',
          client: 'vigil-cli',
          user: `os:${userInfo().username}`,
          resourceType: 'Patient',
          entities: [],
          patients: [],
        }));
        output(opts.json === true, { planted: ids.length }, `planted ${ids.length} decoy patient(s); list them with \`vigil honeytokens list\``);
      } finally {
        await vigil.close();
      }
    });

  dataOption(cmd.command('list').description('the decoy patients (for security admins: keep the list to yourselves)'))
    .option('--json', 'print JSON')
    .action(async (opts: { data?: string; json?: boolean }) => {
      const vigil = await openVigil(configFrom(opts));
      try {
        const decoys = await listHoneytokens(vigil.records);
        output(opts.json === true, { honeytokens: decoys }, decoys.map((d) => `Patient/${d.patient}  planted ${d.plantedAt}`).join('\n') || 'no decoys planted');
      } finally {
        await vigil.close();
      }
    });
}
