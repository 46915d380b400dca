import type { Exchange, ScanClient } from './http-client.js';
import type { Identity } from './identities.js';
import type { Holdings } from './fhir-probe.js';
import type { Category, Finding, Severity } from './types.js';

/** What the person running the scan asked for, beyond the target and identities. */
export interface ScanOptions {
  /** Let checks send writes (a create that is deleted again); off by default. */
  readonly allowWrite: boolean;
  /** A token known to have expired, to see whether the server still takes it. */
  readonly expiredToken?: string;
  /** A client id and one of its registered redirect URIs, for the authorize-endpoint probes. */
  readonly authorizeClientId?: string;
  readonly redirectUri?: string;
  /** Extra PEM CA certificates to trust when judging the server certificate. */
  readonly ca?: string;
  /** The port to try plain HTTP on when the target is https (default 80). */
  readonly httpPort?: number;
  /** The clock, for certificate expiry and token lifetimes. */
  readonly now: () => Date;
}

/** What checks learn and later checks reuse (the CapabilityStatement, the SMART document). */
export interface ScanMemo {
  metadata?: Record<string, unknown>;
  metadataExchange?: Exchange;
  smart?: Record<string, unknown>;
  smartUrl?: string;
  /** What each identity was found to hold, by label. */
  holdings?: Map<string, Holdings>;
}

/** Everything a check may use; it reports through `add`. */
export interface ScanContext {
  /** The FHIR base URL, without a trailing slash. */
  readonly base: string;
  readonly client: ScanClient;
  /** The first identity is "A"; a second, when given, is "B". */
  readonly identities: readonly Identity[];
  readonly options: ScanOptions;
  readonly memo: ScanMemo;
  add(f: Finding): void;
}

/** One scanner check: a name for progress lines and a run that adds findings. */
export interface Check {
  readonly name: string;
  run(ctx: ScanContext): Promise<void>;
}

/** A finding with its parts named, so checks read as a list of facts. */
export function finding(id: string, severity: Severity, category: Category, title: string, evidence: string, fix: string, mappings: readonly string[]): Finding {
  return { id, title, severity, category, evidence, fix, mappings: [...mappings] };
}

/** A URL under the FHIR base: `fhirUrl(ctx, 'Patient?_count=1')`. */
export function fhirUrl(ctx: ScanContext, path: string): string {
  return `${ctx.base}/${path.replace(/^\/+/, '')}`;
}

/** The origin of the target (scheme, host and port), for site-wide probes. */
export function originOf(ctx: ScanContext): string {
  return new URL(ctx.base).origin;
}
