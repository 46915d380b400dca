/**
 * The catalogue items a finding can map to: the OWASP API Security Top 10 (2023 edition) and the
 * technical safeguards of the HIPAA Security Rule (45 CFR 164.312) plus its risk-analysis duty.
 * The titles are our own short paraphrases, shown in the HTML and SARIF reports.
 */
export const MAPPING_TITLES: Readonly<Record<string, string>> = {
  'OWASP-API1': 'API1:2023 Broken Object Level Authorization',
  'OWASP-API2': 'API2:2023 Broken Authentication',
  'OWASP-API3': 'API3:2023 Broken Object Property Level Authorization',
  'OWASP-API4': 'API4:2023 Unrestricted Resource Consumption',
  'OWASP-API5': 'API5:2023 Broken Function Level Authorization',
  'OWASP-API8': 'API8:2023 Security Misconfiguration',
  'OWASP-API9': 'API9:2023 Improper Inventory Management',
  'OWASP-API10': 'API10:2023 Unsafe Consumption of APIs',
  'HIPAA-164.308(a)(1)': '45 CFR 164.308(a)(1) Security management: risk analysis and risk management',
  'HIPAA-164.312(a)': '45 CFR 164.312(a) Access control',
  'HIPAA-164.312(b)': '45 CFR 164.312(b) Audit controls',
  'HIPAA-164.312(c)': '45 CFR 164.312(c) Integrity',
  'HIPAA-164.312(d)': '45 CFR 164.312(d) Person or entity authentication',
  'HIPAA-164.312(e)': '45 CFR 164.312(e) Transmission security',
};

/** Mapping sets that several checks share, so the same weakness maps the same way everywhere. */
export const MAP = {
  transport: ['OWASP-API8', 'HIPAA-164.312(e)'],
  misconfig: ['OWASP-API8', 'HIPAA-164.308(a)(1)'],
  bola: ['OWASP-API1', 'HIPAA-164.312(a)'],
  noAuth: ['OWASP-API2', 'HIPAA-164.312(d)', 'HIPAA-164.312(a)'],
  authn: ['OWASP-API2', 'HIPAA-164.312(d)'],
  scope: ['OWASP-API5', 'HIPAA-164.312(a)'],
  limits: ['OWASP-API4', 'HIPAA-164.308(a)(1)'],
  injection: ['OWASP-API8', 'HIPAA-164.312(c)'],
  inventory: ['OWASP-API9', 'HIPAA-164.308(a)(1)'],
} as const satisfies Record<string, readonly string[]>;
