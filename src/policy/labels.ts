import type { Resource } from '@medplum/fhirtypes';

/**
 * Security labels that hide a record unless the caller holds an explicit clearance for the code:
 * confidentiality R (restricted) and V (very restricted), and the sensitivity categories HIV,
 * PSY (psychiatry), SUD (substance use), ETH (substance abuse, older code) and 42 CFR Part 2.
 */
export const PROTECTED_LABELS: readonly string[] = ['R', 'V', 'HIV', 'PSY', 'SUD', 'ETH', '42CFRPart2'];

/** Labels a break-the-glass grant opens: restricted records, never the sensitivity categories. */
export const BREAK_GLASS_LABELS: ReadonlySet<string> = new Set(['R']);

/** The protected label codes a resource carries (from `meta.security`, any system). */
export function protectedLabels(resource: Resource): string[] {
  const out: string[] = [];
  for (const coding of resource.meta?.security ?? []) {
    if (coding.code !== undefined && PROTECTED_LABELS.includes(coding.code)) out.push(coding.code);
  }
  return out;
}

/** The label codes of a resource (any code, any system), for Consent provisions. */
export function labelCodes(resource: Resource): string[] {
  return (resource.meta?.security ?? []).flatMap((c) => (c.code === undefined ? [] : [c.code]));
}

/** Clearances of a client: its roles `label:CODE` (or `label:*` for every label). */
export function clientClearances(roles: readonly string[]): string[] {
  return roles.filter((r) => r.startsWith('label:')).map((r) => r.slice('label:'.length));
}

/** Whether a set of clearances covers a label (`*` covers all). */
export function cleared(clearances: ReadonlySet<string>, label: string): boolean {
  return clearances.has('*') || clearances.has(label);
}
