import type { Entry } from '../types.js';

/** Whether the entry disclosed or touched patient data successfully. */
export function succeeded(e: Entry): boolean {
  return e.body.outcome === '0';
}

/** The user id of an entry's principal, when it is a signed-in user. */
export function userOf(e: Entry): string | undefined {
  return e.principal?.startsWith('user/') === true ? e.principal.slice('user/'.length) : undefined;
}

/** `Type/id/_history/v` or `Type/id` split into its parts. */
export function parseEntity(entity: string): { type: string; id: string; versionId?: number } | undefined {
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([0-9]+))?$/.exec(entity);
  if (m === null) return undefined;
  return { type: m[1] ?? '', id: m[2] ?? '', ...(m[3] === undefined ? {} : { versionId: Number(m[3]) }) };
}

/** A numeric threshold from the rule's settings. */
export function setting(settings: Record<string, unknown>, name: string, fallback: number): number {
  const v = settings[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Reads that disclose records (not writes, not sign-in). */
export const READS = new Set(['read', 'vread', 'search-type', 'history-instance', 'history-type', 'history-system', 'batch-transaction', 'operation']);
