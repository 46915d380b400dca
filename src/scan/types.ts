/**
 * The shapes every part of the scanner shares: a finding, its severity and category, and the
 * contract of one check. The JSON field names are fixed by `vigil scan --json` (issue 8).
 */

/** Severities, weakest first; the order is what `--fail-on` compares. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = ['transport', 'headers', 'cors', 'disclosure', 'auth', 'bola', 'oauth', 'injection', 'limits'] as const;
export type Category = (typeof CATEGORIES)[number];

/** One weakness the scan saw, with the exchange that shows it and what to do about it. */
export interface Finding {
  /** A stable kebab-case id, the same on every run for the same weakness (e.g. `bola-read`). */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly category: Category;
  /** The request and a response excerpt, PHI masked; or the handshake facts for TLS findings. */
  readonly evidence: string;
  readonly fix: string;
  /** OWASP API Security Top 10 (2023) items and HIPAA Security Rule sections, e.g. `OWASP-API1`, `HIPAA-164.312(e)`. */
  readonly mappings: readonly string[];
}

/** What `--json` prints, field for field. */
export interface ScanReport {
  readonly target: string;
  readonly findings: readonly Finding[];
}

/** True when `s` is at or above `threshold`. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(threshold);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** Findings strongest first, then by id, so reports read the same on every run. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.id.localeCompare(b.id));
}
