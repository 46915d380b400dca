import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openVigil } from '../runtime/index.js';
import { VigilError } from '../errors.js';
import { exportAudit, JsonlSink, SyslogSink, defaultStatePath, isLoopbackTarget, parseHostPort, type ExportSink, type ExportTarget } from '../audit/export/index.js';
import { configFrom, dataOption, output } from './common.js';
import { progressBar, type Progress } from './progress.js';

/** The options of `vigil audit export`, as commander parses them. */
export interface AuditExportOptions {
  data?: string;
  syslog?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  jsonl?: string;
  follow?: boolean;
  state?: string;
  interval?: string;
  batch?: string;
  replayWindow?: string;
  json?: boolean;
}

export interface ExportPlan {
  readonly target: ExportTarget;
  readonly statePath: string;
  readonly pollMs: number;
  readonly batchSize: number;
  readonly replayWindowBytes: number;
}

/**
 * Checks the options and decides the target and state file. Every problem is reported at once,
 * before anything is opened or connected.
 */
export function planExport(opts: AuditExportOptions, dataDir: string): ExportPlan {
  const problems: string[] = [];
  let target: ExportTarget | undefined;
  if ((opts.syslog === undefined) === (opts.jsonl === undefined)) problems.push('give exactly one of --syslog HOST:PORT and --jsonl FILE');
  if (opts.syslog !== undefined) {
    const hp = parseHostPort(opts.syslog);
    if (hp === undefined) problems.push('--syslog takes HOST:PORT ([ADDRESS]:PORT for IPv6)');
    const tls = opts.tls === true;
    // Audit entries name users, clients and patient ids: they cross a network only encrypted,
    // unless the operator says in so many words that the network is trusted.
    if (hp !== undefined && !tls && opts.insecure !== true && !isLoopbackTarget(hp.host)) {
      problems.push(`refusing plaintext syslog to ${hp.host}, which is not this machine: use --tls (or --insecure on a network you trust)`);
    }
    if (!tls && (opts.ca !== undefined || opts.cert !== undefined || opts.key !== undefined)) problems.push('--ca, --cert and --key need --tls');
    if ((opts.cert === undefined) !== (opts.key === undefined)) problems.push('--cert and --key go together');
    if (hp !== undefined) target = { kind: 'syslog', host: hp.host, port: hp.port, tls };
  } else if (opts.tls === true || opts.insecure === true || opts.ca !== undefined || opts.cert !== undefined || opts.key !== undefined) {
    problems.push('--tls, --insecure, --ca, --cert and --key apply to --syslog only');
  }
  if (opts.jsonl !== undefined && opts.syslog === undefined) target = { kind: 'jsonl', path: opts.jsonl };
  const pollMs = integer(opts.interval ?? '500', 10, 3_600_000, '--interval must be a number of milliseconds from 10 to 3600000', problems);
  const batchSize = integer(opts.batch ?? '500', 1, 10_000, '--batch must be an integer from 1 to 10000', problems);
  const replayMiB = integer(opts.replayWindow ?? '32', 0, 1024, '--replay-window must be a whole number of MiB from 0 to 1024', problems);
  if (problems.length > 0 || target === undefined) {
    throw new VigilError('ERR_CONFIG', `invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return { target, statePath: opts.state ?? defaultStatePath(dataDir, target), pollMs, batchSize, replayWindowBytes: replayMiB * 1024 * 1024 };
}

function integer(text: string, min: number, max: number, problem: string, problems: string[]): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) problems.push(problem);
  return n;
}

function readPem(path: string | undefined, option: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch {
    throw new VigilError('ERR_CONFIG', `cannot read ${option} ${path}`);
  }
}

function sinkFor(plan: ExportPlan, opts: AuditExportOptions): ExportSink {
  const t = plan.target;
  if (t.kind === 'jsonl') return new JsonlSink(t.path);
  const ca = readPem(opts.ca, '--ca');
  const cert = readPem(opts.cert, '--cert');
  const key = readPem(opts.key, '--key');
  return new SyslogSink({ host: t.host, port: t.port, tls: t.tls, replayWindowBytes: plan.replayWindowBytes, ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) });
}

const HELP = `
Targets:
  --syslog HOST:PORT   RFC 5424 messages over TCP (RFC 6587) or, with --tls, TLS (RFC 5425),
                       octet-counted, facility authpriv (10). Plain TCP goes to this machine only
                       unless --insecure. TLS checks the receiver's certificate against Node's
                       built-in CA list, or against --ca FILE alone.
  --jsonl FILE         one JSON object per line: {"seq","tenant","leaf","entry"} (mode 0600).

Delivery:
  The last exported sequence number is kept in the state file (default
  <data dir>/audit-export-<hash of target>.state, mode 0600), written only after the target
  acknowledged a batch: after fsync for a file, after the socket took it for syslog. A JSON lines
  file is exported exactly once (on start its last line says where to resume). Syslog is at least
  once: TCP does not tell the sender what the receiver read, so after a broken connection (or a
  close the receiver did not confirm by closing its side) the last --replay-window MiB are sent
  again. Every message carries [vigil@32473 seq="N"] so the SIEM can drop duplicates.
  Run one export per target at a time.
`;

/** `vigil audit export`: sends the audit trail to a SIEM (syslog) or a JSON lines file, resumably. */
export function auditExportCommand(program: Command): void {
  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit').description('the audit trail: export to a SIEM');
  dataOption(audit.command('export').description('export audit entries, in order, to syslog (TCP/TLS) or a JSON lines file, resuming where the last run stopped'))
    .option('--syslog <host:port>', 'send RFC 5424 messages to this syslog receiver')
    .option('--tls', 'use TLS (RFC 5425) to the syslog receiver')
    .option('--ca <file>', 'PEM CA certificates to trust for --tls (instead of the built-in list)')
    .option('--cert <file>', 'PEM client certificate for --tls')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--insecure', 'allow plaintext TCP to a receiver on another machine')
    .option('--jsonl <file>', 'append JSON lines to this file')
    .option('--follow', 'keep exporting new entries until SIGINT or SIGTERM')
    .option('--state <file>', 'the state file (default: <data dir>/audit-export-<target hash>.state)')
    .option('--interval <ms>', 'with --follow, how often to look for new entries', '500')
    .option('--batch <n>', 'entries per write (and per fsync)', '500')
    .option('--replay-window <MiB>', 'syslog: how much to send again after a broken connection', '32')
    .option('--json', 'print a JSON summary')
    .addHelpText('after', HELP)
    .action(async (opts: AuditExportOptions) => {
      const config = configFrom(opts);
      const plan = planExport(opts, config.dataDir);
      const sink = sinkFor(plan, opts);
      const vigil = await openVigil(config);
      const controller = new AbortController();
      const stop = (): void => {
        // A second signal means "now": the state file still holds the last acknowledged batch.
        if (controller.signal.aborted) process.exit(130);
        controller.abort();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      let bar: Progress | undefined;
      let base = 0;
      try {
        const started = performance.now();
        const result = await exportAudit({
          store: vigil.store,
          sink,
          statePath: plan.statePath,
          follow: opts.follow === true,
          pollMs: plan.pollMs,
          batchSize: plan.batchSize,
          signal: controller.signal,
          onStart: ({ fromSeq, untilSeq }) => {
            base = fromSeq;
            if (untilSeq > fromSeq) bar = progressBar('export', untilSeq - fromSeq);
          },
          onProgress: ({ lastSeq }) => bar?.update(Math.max(0, lastSeq - base)),
          onCaughtUp: () => {
            bar?.stop();
            bar = undefined;
          },
          onRetry: ({ message, delayMs, resumeAfter }) => {
            process.stderr.write(`vigil: ${message}; retrying in ${(delayMs / 1000).toFixed(1)} s from seq ${resumeAfter + 1}\n`);
          },
        });
        bar?.stop();
        bar = undefined;
        const seconds = Math.round(performance.now() - started) / 1000;
        const value = { exported: result.exported, lastSeq: result.lastSeq, target: result.target, resent: result.resent, seconds };
        const resent = result.resent > 0 ? ` (${result.resent} sent again after a broken connection)` : '';
        output(opts.json === true, value, `exported ${result.exported} audit entries to ${result.target}${resent}; last seq ${result.lastSeq}`);
      } finally {
        bar?.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await vigil.close();
      }
    });
}
