import { MAPPING_TITLES } from '../mappings.js';
import { SEVERITIES, type ScanReport, type Severity } from '../types.js';

/** Escapes text for HTML content and attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLOUR: Record<Severity, string> = { critical: '#7a0019', high: '#c0392b', medium: '#d4880f', low: '#2e6da4', info: '#666' };

const CSS = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
.sev{color:#fff;border-radius:3px;padding:.1rem .4rem;font-size:.8rem;font-weight:600;text-transform:uppercase}
section{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.muted{color:#666}`;

/**
 * A self-contained HTML report: inline CSS, no script, no external resource (its own CSP says so),
 * and every value from the scan escaped, since evidence quotes what a hostile server sent.
 */
export function htmlReport(report: ScanReport, generatedAt: Date = new Date()): string {
  const e = escapeHtml;
  const counts = SEVERITIES.slice().reverse().map((s) => `${report.findings.filter((f) => f.severity === s).length} ${s}`).join(', ');
  const badge = (s: Severity): string => `<span class="sev" style="background:${COLOUR[s]}">${e(s)}</span>`;
  const rows = report.findings.map((f) => `<tr><td>${badge(f.severity)}</td><td><a href="#${e(f.id)}"><code>${e(f.id)}</code></a></td><td>${e(f.category)}</td><td>${e(f.title)}</td></tr>`).join('\n');
  const sections = report.findings.map((f) => `<section id="${e(f.id)}">
<h2>${badge(f.severity)} ${e(f.title)}</h2>
<p class="muted"><code>${e(f.id)}</code> · ${e(f.category)} · ${f.mappings.map((m) => `<abbr title="${e(MAPPING_TITLES[m] ?? m)}">${e(m)}</abbr>`).join(', ')}</p>
<h3>Fix</h3><p>${e(f.fix)}</p>
<h3>Evidence</h3><pre>${e(f.evidence)}</pre>
</section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil scan: ${e(report.target)}</title><style>${CSS}</style></head>
<body>
<h1>vigil scan of <code>${e(report.target)}</code></h1>
<p class="muted">${e(generatedAt.toISOString())} · ${report.findings.length} finding(s): ${e(counts)}. Evidence has health data masked.</p>
${report.findings.length === 0 ? '<p>No findings.</p>' : `<table><thead><tr><th>Severity</th><th>Id</th><th>Category</th><th>Title</th></tr></thead><tbody>\n${rows}\n</tbody></table>\n${sections}`}
</body></html>
`;
}
