import type { Check, ScanContext, ScanMemo, ScanOptions } from './context.js';
import { loadMetadata, loadSmartConfig, tokenEndpoint } from './discovery.js';
import { ScanClient } from './http-client.js';
import { resolveIdentity, type Identity, type IdentitySpec } from './identities.js';
import { SEVERITIES, sortFindings, type Finding, type ScanReport } from './types.js';
import { transportCheck } from './checks/transport.js';
import { headersCheck } from './checks/headers.js';
import { corsCheck } from './checks/cors.js';
import { disclosureCheck } from './checks/disclosure.js';
import { fhirMetadataCheck } from './checks/fhir-metadata.js';
import { smartConfigCheck } from './checks/smart-config.js';
import { authorizeCheck } from './checks/authorize.js';
import { tokensCheck } from './checks/tokens.js';
import { fhirAnonymousCheck } from './checks/fhir-anonymous.js';
import { bolaCheck } from './checks/bola.js';
import { scopesCheck } from './checks/scopes.js';
import { fhirLimitsCheck } from './checks/fhir-limits.js';
import { injectionCheck } from './checks/injection.js';

/** Every check, in the order a scan runs them. */
export const CHECKS: readonly Check[] = [
  transportCheck, headersCheck, corsCheck, disclosureCheck, fhirMetadataCheck, smartConfigCheck, authorizeCheck,
  tokensCheck, fhirAnonymousCheck, bolaCheck, scopesCheck, fhirLimitsCheck, injectionCheck,
];

export interface ScanInput extends Partial<ScanOptions> {
  /** The FHIR base URL to scan. */
  readonly target: string;
  readonly identity?: IdentitySpec;
  readonly second?: IdentitySpec;
  /** Requests per second, at most. */
  readonly rate: number;
  /** Hosts besides the target's that the scan may reach (e.g. a separate sign-in server). */
  readonly allowHosts?: readonly string[];
  readonly timeoutMs?: number;
  readonly checks?: readonly Check[];
  onProgress?(done: number, total: number, check: string): void;
}

export interface ScanResult extends ScanReport {
  /** URLs the scan wanted but did not request, because their host was not given. */
  readonly refused: readonly string[];
  /** Checks that failed with an error of their own (the scan goes on without them). */
  readonly errors: readonly string[];
  readonly requests: number;
}

/** The FHIR base without a trailing slash; throws a plain Error for anything but an http(s) URL without query or fragment. */
export function normalizeTarget(target: string): URL {
  const u = new URL(target);
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw new Error('the target must be an http or https URL without query, fragment or credentials');
  }
  u.pathname = u.pathname.replace(/\/+$/, '');
  return u;
}

/** Keeps one finding per id: the strongest, the first among equals. */
function keepStrongest(findings: Finding[], f: Finding): void {
  const i = findings.findIndex((x) => x.id === f.id);
  if (i < 0) findings.push(f);
  else if (SEVERITIES.indexOf(f.severity) > SEVERITIES.indexOf((findings[i] as Finding).severity)) findings[i] = f;
}

/**
 * Runs every check against one target, paced and confined to the given hosts, and returns the
 * findings strongest first. Throws (a plain Error) when the target cannot be reached at all or an
 * identity cannot be resolved.
 */
export async function runScan(input: ScanInput): Promise<ScanResult> {
  const url = normalizeTarget(input.target);
  const base = url.href.replace(/\/+$/, '');
  const client = new ScanClient({ hosts: [url.hostname, ...(input.allowHosts ?? [])], perSecond: input.rate, ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }) });
  const memo: ScanMemo = {};
  const { exchange } = await loadMetadata(client, base, memo);
  if (exchange?.status === 0) {
    const root = await client.request('GET', `${url.origin}/`);
    if (root.status === 0) throw new Error(`the target could not be reached (${exchange.error ?? root.error ?? 'no response'})`);
  }
  await loadSmartConfig(client, base, memo);
  const identities: Identity[] = [];
  if (input.identity !== undefined) identities.push(await resolveIdentity('A', input.identity, client, tokenEndpoint(memo)));
  if (input.second !== undefined) identities.push(await resolveIdentity(identities.length === 0 ? 'A' : 'B', input.second, client, tokenEndpoint(memo)));
  const findings: Finding[] = [];
  const options: ScanOptions = {
    allowWrite: input.allowWrite ?? false,
    now: input.now ?? (() => new Date()),
    ...(input.expiredToken === undefined ? {} : { expiredToken: input.expiredToken }),
    ...(input.authorizeClientId === undefined ? {} : { authorizeClientId: input.authorizeClientId }),
    ...(input.redirectUri === undefined ? {} : { redirectUri: input.redirectUri }),
    ...(input.ca === undefined ? {} : { ca: input.ca }),
    ...(input.httpPort === undefined ? {} : { httpPort: input.httpPort }),
  };
  const ctx: ScanContext = { base, client, identities, options, memo, add: (f) => keepStrongest(findings, f) };
  const checks = input.checks ?? CHECKS;
  const errors: string[] = [];
  for (const [i, check] of checks.entries()) {
    input.onProgress?.(i, checks.length, check.name);
    try {
      await check.run(ctx);
    } catch (err) {
      // One broken check must not hide what the others found; the message holds no response data.
      errors.push(`${check.name}: ${(err as Error).message}`);
    }
  }
  input.onProgress?.(checks.length, checks.length, 'done');
  return { target: input.target, findings: sortFindings(findings), refused: [...new Set(client.refused)], errors, requests: client.sent };
}
