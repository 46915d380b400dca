import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { simulate, type SimulateReport } from '../detect/simulate/run.js';

function table(r: SimulateReport): string {
  const rows = Object.entries(r.rules).map(([rule, s]) => `${rule.padEnd(20)} ${String(s.precision).padStart(9)} ${String(s.recall).padStart(6)} ${String(s.tp).padStart(4)} ${String(s.fp).padStart(4)} ${String(s.fn).padStart(4)}`);
  return [
    `${r.patients} patients, ${r.minutes} minute(s), ${r.requests} requests (${r.errors} refused or failed), ${r.injected} attacks injected, ${r.alerts} alerts (${r.collateral} more on attackers under other rules)`,
    '',
    `${'rule'.padEnd(20)} precision recall   tp   fp   fn`,
    ...rows,
    `${'overall'.padEnd(20)} ${String(r.overall.precision).padStart(9)} ${String(r.overall.recall).padStart(6)} ${String(r.overall.tp).padStart(4)} ${String(r.overall.fp).padStart(4)} ${String(r.overall.fn).padStart(4)}`,
    '',
    `alert latency: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
  ].join('\n');
}

/** `vigil simulate --patients N --minutes M [--json]`: labelled traffic and injected attacks against a throwaway server. */
export function simulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run labelled hospital traffic with every attack kind injected against a throwaway server, and score the detection rules')
    .option('--patients <n>', 'patients in the synthetic hospital (20 to 5000)', '200')
    .option('--minutes <m>', 'how long the traffic runs (0.1 to 120)', '2')
    .option('--json', 'print JSON')
    .action(async (opts: { patients: string; minutes: string; json?: boolean }) => {
      const patients = Number(opts.patients);
      const minutes = Number(opts.minutes);
      if (!Number.isInteger(patients) || patients < 20 || patients > 5000) throw new VigilError('ERR_BAD_REQUEST', '--patients must be a whole number from 20 to 5000');
      if (!Number.isFinite(minutes) || minutes < 0.1 || minutes > 120) throw new VigilError('ERR_BAD_REQUEST', '--minutes must be from 0.1 to 120');
      const report = await simulate({ patients, minutes, progress: (m) => process.stderr.write(`simulate: ${m}\n`) });
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ rules: report.rules, latencyMs: report.latencyMs, overall: report.overall, alerts: report.alerts, collateral: report.collateral, requests: report.requests, errors: report.errors, injected: report.injected })}\n`);
      } else process.stdout.write(`${table(report)}\n`);
    });
}
