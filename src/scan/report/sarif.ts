import { VERSION } from '../../version.js';
import { MAPPING_TITLES } from '../mappings.js';
import type { Finding, ScanReport, Severity } from '../types.js';

/** SARIF result levels: code-scanning dashboards sort and filter by these. */
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub code scanning reads `security-severity` (0.0 to 10.0) to rank security results. */
const SCORE: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

function rule(f: Finding): Record<string, unknown> {
  return {
    id: f.id,
    name: f.id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
    shortDescription: { text: f.title },
    fullDescription: { text: `${f.title}. Maps to: ${f.mappings.map((m) => MAPPING_TITLES[m] ?? m).join('; ')}.` },
    help: { text: f.fix, markdown: f.fix },
    defaultConfiguration: { level: LEVEL[f.severity] },
    properties: { tags: ['security', f.category, ...f.mappings], 'security-severity': SCORE[f.severity], precision: 'high' },
  };
}

/**
 * The report as SARIF 2.1.0: one rule and one result per finding. A scanned URL is not a file in
 * a repository, so each result's location is the target URL itself.
 */
export function sarifReport(report: ScanReport): Record<string, unknown> {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'vigil-scan', semanticVersion: VERSION, version: VERSION, rules: report.findings.map(rule) } },
        automationDetails: { id: `vigil-scan/${new URL(report.target).host}/` },
        results: report.findings.map((f, i) => ({
          ruleId: f.id,
          ruleIndex: i,
          level: LEVEL[f.severity],
          message: { text: `${f.title}\n\nEvidence:\n${f.evidence}\n\nFix: ${f.fix}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: report.target } } }],
          partialFingerprints: { 'vigilFinding/v1': `${new URL(report.target).host}:${f.id}` },
          properties: { severity: f.severity, category: f.category, mappings: f.mappings },
        })),
      },
    ],
  };
}
