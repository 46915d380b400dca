export { runScan, normalizeTarget, CHECKS, type ScanInput, type ScanResult } from './scanner.js';
export { parseIdentitySpec, type IdentitySpec } from './identities.js';
export { SEVERITIES, CATEGORIES, atLeast, isSeverity, type Finding, type ScanReport, type Severity, type Category } from './types.js';
export { consoleReport } from './report/console.js';
export { sarifReport } from './report/sarif.js';
export { htmlReport } from './report/html.js';
export { maskBody } from './mask.js';
