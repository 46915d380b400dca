import { validateResource } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { VigilError, type ErrorIssue } from '../errors.js';
import { concretePath } from './choice-paths.js';
import { isKnownResourceType, loadDefinitions } from './definitions.js';
import { structureIssues } from './structure-checks.js';

/** A path is shown to the client only when it is made of element names and indexes. */
const SAFE_PATH = /^[A-Za-z][A-Za-z0-9_]*(\[[0-9]+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?)*$/;
/**
 * Quoted text in a library message may be a value or key from the request: it is never echoed.
 * Greedy, so a quote inside the quoted text cannot end the withheld part early.
 */
const QUOTED = [/".*"/gs, /'.*'/gs];
/** A stray quote left over: withhold everything after it. */
const STRAY_QUOTE = /["'].*$/s;
const WITHHELD = '(value withheld)';
/**
 * Library messages of the form `prefix: tail` keep their tail only when it is one of these shapes,
 * built from type names and counts (Medplum's `Unknown data type: <text>` echoes the request).
 */
const SAFE_TAILS = [
  /^expected (string|boolean|number), but got [a-z]+$/,
  /^expected [0-9]+\.\.([0-9]+|\*), but found [0-9]+$/,
  /^\(value withheld\)$/,
];
/** Medplum's invariant messages: the key and description come from the StructureDefinition. */
const CONSTRAINT = /^Constraint [A-Za-z0-9.-]+ not met: /;

function safeText(issue: OperationOutcomeIssue): string {
  const text = issue.details?.text ?? 'Invalid element';
  if (issue.code === 'invariant' && CONSTRAINT.test(text)) return text.slice(0, 200);
  let safe = text;
  for (const quoted of QUOTED) safe = safe.replace(quoted, WITHHELD);
  safe = safe.replace(STRAY_QUOTE, WITHHELD);
  const colon = safe.indexOf(': ');
  if (colon >= 0 && !SAFE_TAILS.some((tail) => tail.test(safe.slice(colon + 2)))) safe = `${safe.slice(0, colon)}: ${WITHHELD}`;
  return safe.slice(0, 200);
}

function safePath(resource: Resource, raw: string): string | undefined {
  let path: string | undefined = raw;
  if (raw.includes('[x]')) {
    try {
      path = concretePath(resource, raw);
    } catch {
      path = undefined; // a path that cannot be followed is left out, never guessed
    }
  }
  return path !== undefined && SAFE_PATH.test(path) ? path : undefined;
}

/** Medplum's errors, made safe to show. Its warnings are dropped: they never refuse a resource. */
function libraryIssues(resource: Resource, outcome: OperationOutcome | undefined): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  for (const issue of outcome?.issue ?? []) {
    if (issue.severity !== 'error' && issue.severity !== 'fatal') continue;
    const path = safePath(resource, issue.expression?.[0] ?? '');
    const message = safeText(issue);
    issues.push(path === undefined ? { message } : { message, path });
  }
  return issues;
}

/**
 * Validates a resource against the R4 StructureDefinitions of every resource and data type
 * (cardinality, data types, unknown elements, the invariants Medplum evaluates), plus the rules
 * Medplum misses (structure-checks.ts): no empty strings, arrays or objects, one type per choice
 * element, codes in their required ValueSet, contained and bundled resources of known types.
 * Throws ERR_INVALID_RESOURCE naming every problem by path; no message echoes a request value.
 *
 * @example
 * validate({ resourceType: 'Patient', gender: 'female' }); // passes
 * validate({ resourceType: 'Patient', gender: 'robot' }); // throws, issue at Patient.gender
 */
export function validate(resource: Resource): void {
  loadDefinitions();
  const type: unknown = (resource as { resourceType?: unknown } | null)?.resourceType;
  // Decided before Medplum runs: it validates any data type named here (HumanName, Element, ...).
  if (typeof type !== 'string' || !isKnownResourceType(type)) {
    throw new VigilError('ERR_INVALID_RESOURCE', 'The resource is not valid FHIR R4', { issues: [{ message: 'Missing or unknown resource type' }] });
  }
  let issues: ErrorIssue[] = [];
  try {
    validateResource(resource);
  } catch (err) {
    issues = libraryIssues(resource, (err as { outcome?: OperationOutcome }).outcome);
    if (issues.length === 0) issues.push({ message: 'The resource is invalid' });
  }
  let extra: ErrorIssue[];
  try {
    extra = structureIssues(resource);
  } catch {
    // Only input deep enough to exhaust the stack gets here; it is refused without detail.
    extra = [{ message: 'The resource is invalid' }];
  }
  // A problem Medplum already named at a path is not named twice.
  const named = new Set(issues.map((i) => i.path));
  for (const issue of extra) if (!named.has(issue.path)) issues.push(issue);
  if (issues.length > 0) throw new VigilError('ERR_INVALID_RESOURCE', 'The resource is not valid FHIR R4', { issues });
}
