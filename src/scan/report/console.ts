import type { ScanReport, Severity } from '../types.js';

const LABEL: Record<Severity, string> = { critical: 'CRITICAL', high: 'HIGH', medium: 'MEDIUM', low: 'LOW', info: 'INFO' };

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/**
 * The human report: a table of findings (severity, id, category, title), then each finding's fix
 * and evidence. Plain text, so it reads the same in a terminal, a log or an e-mail.
 */
export function consoleReport(report: ScanReport, o: { evidence?: boolean } = {}): string {
  const lines = [`vigil scan of ${report.target}: ${report.findings.length} finding(s)`, ''];
  if (report.findings.length === 0) return `${lines.join('\n')}no findings\n`;
  const idWidth = Math.max(2, ...report.findings.map((f) => f.id.length));
  lines.push(`${fit('SEVERITY', 9)} ${fit('ID', idWidth)} ${fit('CATEGORY', 10)} TITLE`);
  lines.push(`${'-'.repeat(9)} ${'-'.repeat(idWidth)} ${'-'.repeat(10)} ${'-'.repeat(40)}`);
  for (const f of report.findings) lines.push(`${fit(LABEL[f.severity], 9)} ${fit(f.id, idWidth)} ${fit(f.category, 10)} ${f.title}`);
  lines.push('');
  for (const f of report.findings) {
    lines.push(`[${LABEL[f.severity]}] ${f.id}: ${f.title}`);
    lines.push(`  fix: ${f.fix}`);
    lines.push(`  maps to: ${f.mappings.join(', ')}`);
    if (o.evidence !== false) for (const e of f.evidence.split('\n')) lines.push(`  | ${e}`);
    lines.push('');
  }
  return lines.join('\n');
}
