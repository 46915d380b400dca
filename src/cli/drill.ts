import { rmSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../http/index.js';
import { output } from './common.js';
import { runDrill } from './drill-run.js';

function count(value: string): number {
  const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 100_000)) throw new InvalidArgumentError('expected a whole number from 1 to 100000');
  return n;
}

/**
 * `vigil drill ransomware`: rehearses a ransomware attack and the recovery on a throwaway copy
 * (a temporary data directory and an in-process server on loopback, as `vigil serve` runs it),
 * and prints what detection did, how long recovery took and what was lost.
 */
export function drillCommand(program: Command): void {
  const drill = program.command('drill').description('rehearse incidents on a throwaway copy');
  drill
    .command('ransomware')
    .description('load synthetic data, back up, attack through the API, corrupt the database, restore and verify')
    .option('--patients <n>', 'synthetic patients to load', count, 20)
    .option('--keep', 'keep the temporary directory for inspection')
    .option('--json', 'print JSON')
    .action(async (opts: { patients: number; keep?: boolean; json?: boolean }) => {
      const logger = createLogger(loadConfig({ VIGIL_LOG_LEVEL: 'silent' }, {}));
      const say = (line: string): void => void process.stderr.write(`drill: ${line}\n`);
      const r = await runDrill(opts.patients, logger, say);
      if (opts.keep !== true) rmSync(r.workDir, { recursive: true, force: true });
      const human = [
        `loaded ${r.patients} patients (${r.resourcesLoaded} resources); backup ${r.backup.id} (${r.backup.versions} versions, ${r.backup.seconds} s)`,
        `attack: ${r.attack.updates} updates and ${r.attack.deletes} deletes with a valid token; ${r.attack.succeeded} succeeded, ${r.attack.refused} refused (HTTP ${Object.entries(r.attack.statuses).map(([k, v]) => `${k}: ${v}`).join(', ')})`,
        r.detection.mode === 'unavailable'
          ? 'detection: GET /admin/mode is not available on this server'
          : `detection: mode ${r.detection.mode}${r.detection.reason === null ? '' : ` (${r.detection.reason})`}${r.detection.firstRefusedAfterWrites === null ? '' : `; writes refused from write ${r.detection.firstRefusedAfterWrites} on`}`,
        `corruption: ${r.corruption.pagesOverwritten} pages overwritten; ${r.corruption.how}`,
        `restore: ${r.restore.ok ? 'ok' : 'FAILED'}, ${r.restore.versions} versions, ${r.restore.resources} resources, ${r.restore.resourcesPerSecond} resources/s; checkpoint ${r.restore.checkpoint.matchesBackup ? "matches the backup's" : 'differs'}; vigil verify ${r.restore.verify.ok ? 'ok' : 'BROKEN'}`,
        `recovery time: ${r.recoverySeconds} s (key backup opened, backup verified, restored, verified)`,
        `data lost since the backup: ${r.dataLost.versionsAfterBackup} versions (the attack's writes); patients before the attack ${r.patientsBeforeAttack}, after restore ${r.patientsAfterRestore}`,
        ...(opts.keep === true ? [`kept: ${r.workDir}`] : []),
      ].join('\n');
      output(opts.json === true, r, human);
      if (!r.restore.ok || r.patientsAfterRestore !== r.patientsBeforeAttack) process.exitCode = 1;
    });
}
