import { readFileSync, writeFileSync } from 'node:fs';
import { CommanderError, Option, type Command } from 'commander';
import { VigilError } from '../errors.js';
import { atLeast, consoleReport, htmlReport, isSeverity, parseIdentitySpec, runScan, sarifReport, SEVERITIES, CHECKS, type IdentitySpec, type ScanInput } from '../scan/index.js';
import { progressBar } from './progress.js';

interface ScanOpts {
  token?: string;
  clientId?: string;
  clientSecret?: string;
  secondIdentity?: string;
  expiredToken?: string;
  json?: boolean;
  sarif?: string;
  html?: string;
  failOn: string;
  allowWrite?: boolean;
  rate: string;
  authClientId?: string;
  redirectUri?: string;
  ca?: string;
  httpPort?: string;
  allowHost?: string[];
  timeout: string;
}

const usage = (message: string): VigilError => new VigilError('ERR_CONFIG', `vigil scan: ${message}`);

/** A secret given as `@FILE` is read from that file, so it need not appear in the process list. */
function secret(value: string | undefined, flag: string): string | undefined {
  if (value === undefined || !value.startsWith('@')) return value;
  try {
    return readFileSync(value.slice(1), 'utf8').trim();
  } catch {
    throw usage(`${flag}: the file ${value.slice(1)} cannot be read`);
  }
}

function number(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw usage(`${flag} must be a number from ${min} to ${max}`);
  return n;
}

/** Checks the flags together and turns them into the scanner's input; every problem is a usage error (exit 2). */
function scanInput(url: string, o: ScanOpts): ScanInput {
  if (!isSeverity(o.failOn)) throw usage(`--fail-on must be one of ${SEVERITIES.join(', ')}`);
  if (o.token !== undefined && (o.clientId !== undefined || o.clientSecret !== undefined)) throw usage('give --token or --client-id/--client-secret, not both');
  if ((o.clientId === undefined) !== (o.clientSecret === undefined)) throw usage('--client-id and --client-secret go together');
  const token = secret(o.token, '--token');
  const identity: IdentitySpec | undefined = token !== undefined ? { token } : o.clientId !== undefined ? { clientId: o.clientId, clientSecret: secret(o.clientSecret, '--client-secret') ?? '' } : undefined;
  const secondText = secret(o.secondIdentity, '--second-identity');
  const second = secondText === undefined ? undefined : parseIdentitySpec(secondText);
  if (secondText !== undefined && second === undefined) throw usage('--second-identity takes a token, token:TOKEN or client:ID:SECRET');
  const expiredToken = secret(o.expiredToken, '--expired-token');
  const httpPort = number(o.httpPort, '--http-port', 1, 65535);
  let ca: string | undefined;
  if (o.ca !== undefined) {
    try {
      ca = readFileSync(o.ca, 'utf8');
    } catch {
      throw usage(`--ca: the file ${o.ca} cannot be read`);
    }
  }
  try {
    new URL(url);
  } catch {
    throw usage('URL must be an absolute http or https URL (the FHIR base, e.g. https://fhir.example.org/r4)');
  }
  return {
    target: url,
    rate: number(o.rate, '--rate', 0.1, 50) ?? 5,
    timeoutMs: (number(o.timeout, '--timeout', 1, 120) ?? 10) * 1000,
    allowWrite: o.allowWrite === true,
    allowHosts: o.allowHost ?? [],
    ...(identity === undefined ? {} : { identity }),
    ...(second === undefined ? {} : { second }),
    ...(expiredToken === undefined ? {} : { expiredToken }),
    ...(o.authClientId ?? o.clientId) === undefined ? {} : { authorizeClientId: o.authClientId ?? o.clientId },
    ...(o.redirectUri === undefined ? {} : { redirectUri: o.redirectUri }),
    ...(ca === undefined ? {} : { ca }),
    ...(httpPort === undefined ? {} : { httpPort }),
  };
}

export function scanCommand(program: Command): void {
  program
    .command('scan')
    .description('probe a FHIR API or health web site you own for the holes attackers use (read-only unless --allow-write)')
    .argument('<url>', 'the FHIR base URL to scan; only its host is contacted')
    .option('--token <token>', 'an access token for identity A (@FILE reads it from a file)')
    .option('--client-id <id>', 'client credentials for identity A, exchanged at the token endpoint')
    .option('--client-secret <secret>', 'the client secret (@FILE reads it from a file)')
    .option('--second-identity <identity>', 'identity B for the BOLA checks: a token, token:TOKEN or client:ID:SECRET (@FILE reads it)')
    .option('--expired-token <token>', 'a token that has expired, to check it is refused (@FILE reads it)')
    .option('--auth-client-id <id>', 'a client registered for the code flow, for the authorize-endpoint probes (default: --client-id)')
    .option('--redirect-uri <uri>', 'one of that client’s registered redirect URIs (the probes need both)')
    .option('--json', 'print the findings as JSON on stdout')
    .option('--sarif <file>', 'also write a SARIF 2.1.0 report')
    .option('--html <file>', 'also write a self-contained HTML report')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices([...SEVERITIES]).default('high'))
    .option('--allow-write', 'let checks that need a write run (a create, deleted again)')
    .option('--rate <n>', 'requests per second, at most (0.1 to 50)', '5')
    .option('--timeout <seconds>', 'per-request timeout', '10')
    .option('--ca <file>', 'a PEM CA certificate to trust when judging the server certificate')
    .option('--http-port <port>', 'where to try plain HTTP when the target is https (default 80)')
    .option('--allow-host <host>', 'another host the scan may contact (repeatable), e.g. a separate sign-in server', (v: string, acc: string[] = []) => [...acc, v])
    .exitOverride((err) => {
      // Bad usage is exit 2 (help and version stay 0).
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .action(async (url: string, opts: ScanOpts) => {
      const input = scanInput(url, opts);
      const bar = opts.json === true ? undefined : progressBar('scan', CHECKS.length);
      const result = await runScan({ ...input, onProgress: (done) => bar?.update(done) })
        .catch((err: unknown) => {
          throw new VigilError('ERR_CONFIG', `vigil scan: ${(err as Error).message}`);
        })
        .finally(() => bar?.stop());
      const report = { target: result.target, findings: result.findings };
      if (opts.sarif !== undefined) writeFileSync(opts.sarif, `${JSON.stringify(sarifReport(report), null, 2)}\n`);
      if (opts.html !== undefined) writeFileSync(opts.html, htmlReport(report));
      process.stdout.write(opts.json === true ? `${JSON.stringify(report)}\n` : consoleReport(report));
      if (opts.json !== true) process.stderr.write(`vigil scan: ${result.requests} requests sent\n`);
      for (const r of result.refused) process.stderr.write(`vigil scan: not contacted (host not given): ${new URL(r).host}\n`);
      for (const e of result.errors) process.stderr.write(`vigil scan: a check failed: ${e}\n`);
      if (report.findings.some((f) => atLeast(f.severity, opts.failOn as (typeof SEVERITIES)[number]))) process.exitCode = 1;
    });
}
