import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, htmlReport } from './html.js';
import { sarifReport } from './sarif.js';
import { consoleReport } from './console.js';
import type { ScanReport } from '../types.js';

const hostile: ScanReport = {
  target: 'https://fhir.example.org/r4',
  findings: [{ id: 'reflected-input', title: 'Input <script>alert(1)</script> reflected', severity: 'medium', category: 'injection', evidence: '< <img src=x onerror="alert(`x`)">', fix: 'Escape & encode', mappings: ['OWASP-API8', 'HIPAA-164.312(c)'] }],
};

describe('scan reports', () => {
  it('escapes every character that could open markup or an attribute', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&\``), '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#96;');
  });

  it('HTML: nothing the server sent becomes markup, and nothing is loaded from elsewhere', () => {
    const page = htmlReport(hostile, new Date('2025-01-01T00:00:00Z'));
    assert.doesNotMatch(page, /<script|<img|onerror="/i);
    assert.match(page, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    assert.match(page, /default-src 'none'/);
    assert.match(page, /API8:2023 Security Misconfiguration/);
  });

  it('SARIF 2.1.0: one rule and one result per finding, with a level and a security severity', () => {
    const s = sarifReport(hostile) as { version: string; runs: [{ tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } }; results: { ruleId: string; level: string }[] }] };
    assert.equal(s.version, '2.1.0');
    assert.deepEqual(s.runs[0].results.map((r) => [r.ruleId, r.level]), [['reflected-input', 'warning']]);
    assert.equal(s.runs[0].tool.driver.rules[0]?.properties['security-severity'], '5.5');
  });

  it('console: a table, then the fix and the evidence of each finding', () => {
    const text = consoleReport(hostile);
    assert.match(text, /^MEDIUM\s+reflected-input\s+injection\s+Input/m);
    assert.match(text, /fix: Escape & encode/);
    assert.match(consoleReport({ target: hostile.target, findings: [] }), /no findings/);
  });
});
