/**
 * Every error Vigil raises on purpose carries one code from this fixed list. Only `src/http` turns
 * a code into an HTTP status and an OperationOutcome (see http/errors.ts); everything else throws.
 *
 * Messages are written for the caller and must never contain health data, query values or
 * secrets: they are shown to clients and written to logs.
 */
export const ERROR_CODES = {
  ERR_CONFIG: 'The configuration is invalid; the server refuses to start',
  ERR_BAD_REQUEST: 'The request is malformed',
  ERR_INVALID_RESOURCE: 'The resource does not conform to the FHIR R4 definitions',
  ERR_UNSUPPORTED_MEDIA_TYPE: 'The request body is not FHIR JSON',
  ERR_NOT_ACCEPTABLE: 'Only FHIR JSON responses are available',
  ERR_BODY_TOO_LARGE: 'The request body exceeds the configured limit',
  ERR_TOO_COSTLY: 'The search would examine too many resources',
  ERR_UNKNOWN_TYPE: 'The resource type is not known',
  ERR_NOT_FOUND: 'The resource was not found',
  ERR_GONE: 'The resource was deleted',
  ERR_VERSION_CONFLICT: 'The resource version does not match If-Match',
  ERR_CONFLICT: 'The request conflicts with the current state of the resource',
  ERR_NOT_SUPPORTED: 'The interaction is not supported',
  ERR_READ_ONLY: 'This resource type is written by the server only',
  ERR_UNAUTHENTICATED: 'A valid access token is required',
  ERR_SCOPE: 'The access token does not grant this interaction',
  ERR_ACCESS_DENIED: 'The access policy does not permit this interaction',
  ERR_READ_ONLY_MODE: 'The server is in read-only mode: writes are refused until a security administrator lifts it; reads go on',
  ERR_OAUTH: 'The OAuth request was refused',
  ERR_RATE_LIMITED: 'Too many requests from this address; try again later',
  ERR_INTEGRITY: 'Stored data failed an integrity check',
  ERR_KEY: 'A key could not be loaded',
  ERR_BACKUP: 'The backup is incomplete, altered or cannot be restored',
  ERR_INTERNAL: 'An internal error occurred',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status each error code answers with (src/http applies it; batch responses report it). */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  ERR_CONFIG: 500,
  ERR_BAD_REQUEST: 400,
  ERR_INVALID_RESOURCE: 400,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_NOT_ACCEPTABLE: 406,
  ERR_BODY_TOO_LARGE: 413,
  ERR_TOO_COSTLY: 400,
  ERR_UNKNOWN_TYPE: 404,
  ERR_NOT_FOUND: 404,
  ERR_GONE: 410,
  ERR_VERSION_CONFLICT: 412,
  ERR_CONFLICT: 409,
  ERR_NOT_SUPPORTED: 501,
  ERR_READ_ONLY: 405,
  ERR_UNAUTHENTICATED: 401,
  ERR_SCOPE: 403,
  ERR_ACCESS_DENIED: 403,
  ERR_READ_ONLY_MODE: 503,
  ERR_OAUTH: 400,
  ERR_RATE_LIMITED: 429,
  ERR_INTEGRITY: 500,
  ERR_KEY: 500,
  ERR_BACKUP: 500,
  ERR_INTERNAL: 500,
};


/** One issue of a client error, named by FHIRPath-like location (never by value). */
export interface ErrorIssue {
  readonly message: string;
  readonly path?: string;
}

/**
 * The base error of Vigil.
 *
 * @example
 * throw new VigilError('ERR_NOT_FOUND', 'Patient/123 is not known');
 */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly ErrorIssue[];

  constructor(code: ErrorCode, message: string = ERROR_CODES[code], options: { cause?: unknown; issues?: readonly ErrorIssue[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.issues = options.issues ?? [];
  }
}

/** OAuth 2.0 error (RFC 6749 section 5.2); carried by ERR_OAUTH. */
export class OAuthError extends VigilError {
  readonly oauthError: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope';
  readonly status: 400 | 401;

  constructor(oauthError: OAuthError['oauthError'], description: string, status: 400 | 401 = 400) {
    super('ERR_OAUTH', description);
    this.name = 'OAuthError';
    this.oauthError = oauthError;
    this.status = status;
  }
}

export function isVigilError(err: unknown): err is VigilError {
  return err instanceof VigilError;
}
