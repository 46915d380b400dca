import { validateResource } from '@medplum/core';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import { VigilError, type ErrorIssue } from '../errors.js';
import { loadDefinitions } from './definitions.js';

/** A path is shown to the client only when it is made of element names and indexes. */
const SAFE_PATH = /^[A-Za-z][A-Za-z0-9_]*(\[[0-9]+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?)*$/;
/** Quoted text in a library message may be a value from the request: it is never echoed. */
const QUOTED = /"[^"]*"|'[^']*'/g;

function safeIssues(outcome: OperationOutcome | undefined): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  for (const issue of outcome?.issue ?? []) {
    const raw = issue.expression?.[0] ?? '';
    const path = SAFE_PATH.test(raw) ? raw : undefined;
    const text = (issue.details?.text ?? issue.diagnostics ?? 'Invalid element').replace(QUOTED, '(value withheld)').slice(0, 200);
    issues.push(path === undefined ? { message: text } : { message: text, path });
  }
  return issues.length > 0 ? issues : [{ message: 'The resource is invalid' }];
}

/**
 * Validates a resource against the R4 StructureDefinitions (cardinality, data types, unknown
 * elements, invariants that Medplum evaluates). Throws ERR_INVALID_RESOURCE naming every problem by path.
 */
export function validate(resource: Resource): void {
  loadDefinitions();
  try {
    validateResource(resource);
  } catch (err) {
    const outcome = (err as { outcome?: OperationOutcome }).outcome;
    throw new VigilError('ERR_INVALID_RESOURCE', 'The resource is not valid FHIR R4', { issues: safeIssues(outcome) });
  }
}
