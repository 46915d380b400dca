import { CommanderError, type Command } from 'commander';
import { openVigil } from '../runtime/index.js';
import { configFrom, dataOption, output } from './common.js';
import { listFiles } from './import-sources.js';
import { importProgress } from './import-progress.js';
import { humanReport } from './import-report.js';
import { runImport } from './import-workers.js';
import { availableParallelism } from 'node:os';

const HELP = `
What is loaded:
  transaction Bundle    stored whole or not at all; urn:uuid and conditional references are resolved
                        (Synthea's R4 output loads as it is)
  batch Bundle          each entry on its own
  collection, searchset or document Bundle, and single resources
                        each resource on its own: PUT Type/id when it has an id, else POST
                        (collection entries without an id but with a urn:uuid fullUrl get a new id,
                        and references to one another are kept)
  NDJSON (.ndjson, .jsonl)
                        one resource per line, read as a stream; PUT with an id, else POST

Order: the paths in the order given. A folder is walked recursively and its .json, .ndjson and
.jsonl files are loaded in path order (other files are skipped and counted), except that Synthea's
hospitalInformation*.json, then practitionerInformation*.json (and vigil generate's
organizations-practitioners.json) come first: the patient Bundles
reference their Organizations, Locations and Practitioners conditionally.

A failed file, entry or line is reported by file and line or entry, with an error code and reason
(never with its content), and the import goes on with the rest unless --strict. A failed
transaction leaves nothing of itself behind. Works while the server runs on the same data.

Exit status: 0 when everything loaded, 1 when anything failed, 2 for bad arguments or paths.`;

/** Commander's own argument errors (unknown option, missing path) exit 2 like any bad argument. */
function badArgumentsExit2(err: CommanderError): never {
  if (err.exitCode === 1) throw new CommanderError(2, err.code, err.message);
  throw err;
}

/**
 * `vigil import PATH...`: loads FHIR JSON and NDJSON into the data directory, as its owner,
 * while the server runs or not.
 */
export function importCommand(program: Command): void {
  const command = dataOption(program.command('import').description('load FHIR JSON Bundles, resources and NDJSON files or folders of them'))
    .argument('<paths...>', 'files or folders to load')
    .option('--strict', 'stop at the first failure (what was stored before it stays); implies --workers 1')
    .option('--workers <n>', 'threads that validate, index and encrypt side by side (default: one per core, at most 4)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', HELP)
    .showHelpAfterError('(run `vigil import --help` for usage)')
    .exitOverride(badArgumentsExit2);
  command.action(async (paths: string[], opts: { data?: string; strict?: boolean; json?: boolean; workers?: string }) => {
    const workers = opts.workers === undefined ? Math.min(4, availableParallelism()) : Number(opts.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
      command.error('error: --workers takes an integer from 1 to 64', { exitCode: 2, code: 'vigil.import.workers' });
    }
    const list = await listFiles(paths);
    if (list.missing.length > 0) {
      command.error(`error: no such file or folder: ${list.missing.join(', ')}`, { exitCode: 2, code: 'vigil.import.missingPath' });
    }
    const vigil = await openVigil(configFrom(opts), { bulk: true });
    try {
      const bar = importProgress(list.files.length, list.files.reduce((n, f) => n + f.size, 0));
      const onCheckpoint = (): void => {
        bar.stop();
        // It reads every leaf the import appended: about half a minute for 11 million.
        process.stderr.write('import: signing a checkpoint of the audit log over the new leaves\n');
      };
      const report = await runImport(vigil, list, { workers, strict: opts.strict === true, onProgress: (s) => bar.update(s), onCheckpoint }).finally(() => bar.stop());
      output(opts.json === true, report, humanReport(report));
      if (report.failed > 0) process.exitCode = 1;
    } finally {
      await vigil.close();
    }
  });
}
