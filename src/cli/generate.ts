import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import { VigilError } from '../errors.js';
import { MAX_PATIENTS, PROVIDERS_FILE, generateDataset, patientFileName } from '../synthetic/index.js';
import { output } from './common.js';
import { progressBar } from './progress.js';

interface GenerateOptions {
  patients: number;
  seed: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

function patientCount(value: string): number {
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PATIENTS)) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_PATIENTS}`);
  return n;
}

function seedText(value: string): string {
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) throw new InvalidArgumentError('expected 1 to 200 printable ASCII characters');
  return value;
}

/** The files of this run that already exist in `dir`, by name. */
function existing(dir: string, patients: number): string[] {
  const ours = (name: string): boolean => {
    if (name === PROVIDERS_FILE) return true;
    const index = /^patient-([0-9]+)\.json$/.exec(name)?.[1];
    return index !== undefined && Number(index) >= 1 && Number(index) <= patients && name === patientFileName(Number(index), patients);
  };
  return readdirSync(dir).filter(ours).sort();
}

function refuse(names: readonly string[], dir: string): never {
  throw new VigilError('ERR_CONFLICT', `refusing to overwrite ${names.length} existing file(s) in ${dir} (${names[0] ?? ''}${names.length > 1 ? ', ...' : ''}); pass --force to replace them`);
}

/**
 * `vigil generate --patients N --seed S --out DIR`: a deterministic synthetic data set (see
 * src/synthetic) as Synthea-style transaction Bundles, one file for the organizations and
 * practitioners, then one per patient. Exit codes: 0 done, 1 refused or failed, 2 bad arguments.
 */
export function generateCommand(program: Command): void {
  program
    .command('generate')
    .description('write a deterministic synthetic data set as FHIR R4 transaction Bundles (like Synthea)')
    .requiredOption('--patients <n>', `how many patients (1 to ${MAX_PATIENTS})`, patientCount)
    .option('--seed <seed>', 'the same seed and --patients give byte-identical files', seedText, '1')
    .requiredOption('--out <dir>', 'the folder to write into (created when missing)')
    .option('--force', 'overwrite the files of an earlier run')
    .option('--json', 'print the summary as JSON')
    // Bad arguments exit 2, so a script can tell them from a run that failed (1).
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .action((opts: GenerateOptions, command: Command) => {
      const out = opts.out;
      let isDir = true;
      try {
        isDir = statSync(out).isDirectory();
      } catch {
        mkdirSync(out, { recursive: true });
      }
      if (!isDir) command.error(`error: --out ${out} is not a directory`, { exitCode: 2, code: 'vigil.outNotDirectory' });
      const force = opts.force === true;
      const clashes = existing(out, opts.patients);
      if (clashes.length > 0 && !force) refuse(clashes, out);

      const started = performance.now();
      const bar = progressBar('generate', opts.patients);
      const byType = new Map<string, number>();
      let files = 0;
      let resources = 0;
      try {
        for (const file of generateDataset({ patients: opts.patients, seed: opts.seed })) {
          try {
            // 'wx' fails if the file appeared since the check above: nothing is overwritten without --force.
            writeFileSync(join(out, file.name), `${JSON.stringify(file.bundle)}\n`, { flag: force ? 'w' : 'wx' });
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuse([file.name], out);
            throw err;
          }
          files++;
          for (const entry of file.bundle.entry ?? []) {
            const type = entry.resource?.resourceType ?? 'unknown';
            byType.set(type, (byType.get(type) ?? 0) + 1);
            resources++;
          }
          if (file.kind === 'patient') bar.update(files - 1);
        }
      } finally {
        bar.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      const types = [...byType.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const value = { patients: opts.patients, files, resources, byType: Object.fromEntries(types), seconds: Math.round(seconds * 1000) / 1000 };
      const rate = Math.round(resources / Math.max(seconds, 0.001));
      const human = [
        `wrote ${files} files to ${out}: ${resources} resources (${(resources / opts.patients).toFixed(1)} per patient) in ${value.seconds} s, ${rate} resources/s`,
        ...types.map(([type, count]) => `  ${type.padEnd(20)} ${count}`),
      ].join('\n');
      output(opts.json === true, value, human);
    });
}
