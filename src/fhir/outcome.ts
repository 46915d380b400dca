import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ErrorCode, ErrorIssue } from '../errors.js';

type IssueCode = OperationOutcomeIssue['code'];

/** The FHIR issue type for each Vigil error code. */
const ISSUE_CODES: Record<ErrorCode, IssueCode> = {
  ERR_CONFIG: 'exception',
  ERR_BAD_REQUEST: 'invalid',
  ERR_INVALID_RESOURCE: 'structure',
  ERR_UNSUPPORTED_MEDIA_TYPE: 'not-supported',
  ERR_NOT_ACCEPTABLE: 'not-supported',
  ERR_BODY_TOO_LARGE: 'too-costly',
  ERR_TOO_COSTLY: 'too-costly',
  ERR_UNKNOWN_TYPE: 'not-supported',
  ERR_NOT_FOUND: 'not-found',
  ERR_GONE: 'deleted',
  ERR_VERSION_CONFLICT: 'conflict',
  ERR_CONFLICT: 'conflict',
  ERR_NOT_SUPPORTED: 'not-supported',
  ERR_READ_ONLY: 'forbidden',
  ERR_UNAUTHENTICATED: 'login',
  ERR_SCOPE: 'forbidden',
  ERR_ACCESS_DENIED: 'forbidden',
  ERR_READ_ONLY_MODE: 'transient',
  ERR_OAUTH: 'security',
  ERR_RATE_LIMITED: 'throttled',
  ERR_INTEGRITY: 'exception',
  ERR_KEY: 'exception',
  ERR_BACKUP: 'exception',
  ERR_INTERNAL: 'exception',
};

/** An OperationOutcome for an error: one issue per problem, each named by path where known. */
export function errorOutcome(code: ErrorCode, message: string, issues: readonly ErrorIssue[] = []): OperationOutcome {
  const issueCode = ISSUE_CODES[code];
  const list: OperationOutcomeIssue[] =
    issues.length === 0
      ? [{ severity: 'error', code: issueCode, details: { text: message }, diagnostics: code }]
      : issues.map((i) => ({
          severity: 'error',
          code: issueCode,
          details: { text: i.message },
          diagnostics: code,
          ...(i.path === undefined ? {} : { expression: [i.path] }),
        }));
  return { resourceType: 'OperationOutcome', issue: list };
}

/** An informational OperationOutcome (e.g. for `Prefer: return=OperationOutcome`). */
export function infoOutcome(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text } }] };
}
