import type { FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import { RevokedToken, type Permission, type Principal, type TokenService } from '../auth/index.js';
import { infoOutcome, type ResourceVersion } from '../fhir/index.js';
import type { AccessGate } from '../policy/index.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The access decision for this request (set with the principal). */
    gate?: AccessGate;
  }
}

/** The request's access gate; the onRequest hook sets it on every authenticated route. */
export function gateOf(request: FastifyRequest): AccessGate {
  if (request.gate === undefined) throw new VigilError('ERR_UNAUTHENTICATED');
  return request.gate;
}

/** Authenticates the bearer token of a request; every failure is the same 401. */
export async function authenticate(request: FastifyRequest, tokens: TokenService): Promise<Principal> {
  const header = request.headers.authorization;
  const m = header === undefined ? null : /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header);
  if (m === null || m[1] === undefined) throw new VigilError('ERR_UNAUTHENTICATED', 'The access token is missing, invalid or expired');
  let principal: Principal;
  try {
    principal = await tokens.verify(m[1]);
  } catch (err) {
    // A revoked but genuine token names its holder in the audit entry: detection watches for it.
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof RevokedToken && request.audit !== undefined) {
      request.audit.client = cause.principal.clientId;
      if (cause.principal.userId !== undefined) request.audit.user = cause.principal.userId;
      request.audit.decision = 'revoked';
    }
    throw err;
  }
  request.principal = principal;
  return principal;
}

/** Default deny: the token's scopes must grant every listed permission on the type. */
export function requireScope(principal: Principal, type: string, ...perms: Permission[]): void {
  // Clients act with system/ scopes; signed-in users with user/ scopes (patient/ ones go through the policy).
  const context = principal.kind === 'client' ? 'system' : 'user';
  for (const p of perms) {
    if (!principal.scopes.allows(context, type, p)) throw new VigilError('ERR_SCOPE', 'The access token does not grant this interaction');
  }
}

/** Only JSON is served: `_format` and `Accept` asking for anything else get 406. */
export function checkFormat(request: FastifyRequest): void {
  const query = request.query as Record<string, unknown>;
  const format = query['_format'];
  if (format !== undefined && !(typeof format === 'string' && /^(json|application\/(fhir\+)?json)(;.*)?$/.test(format))) {
    throw new VigilError('ERR_NOT_ACCEPTABLE');
  }
  const accept = request.headers.accept;
  if (accept !== undefined && accept !== '' && !/(^|,)\s*(\*\/\*|application\/\*|application\/(fhir\+)?json)\s*(;|,|$)/.test(accept)) {
    throw new VigilError('ERR_NOT_ACCEPTABLE');
  }
}

/** The version an `If-Match` header names (`W/"3"` or `"3"`), if the header is present. */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const raw = request.headers['if-match'];
  if (raw === undefined) return undefined;
  const m = /^\s*(?:W\/)?"([1-9][0-9]{0,9})"\s*$/.exec(raw);
  if (m === null || m[1] === undefined) throw new VigilError('ERR_BAD_REQUEST', 'If-Match must be an ETag such as W/"1"');
  return Number(m[1]);
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** `Prefer: return=...` (FHIR R4 section 3.1.0.8.1); representation by default. */
export function returnPreference(request: FastifyRequest): ReturnPreference {
  const prefer = request.headers['prefer'];
  const m = typeof prefer === 'string' ? /(?:^|[;,\s])return=(minimal|representation|OperationOutcome)\b/.exec(prefer) : null;
  return (m?.[1] as ReturnPreference | undefined) ?? 'representation';
}

/** Sets ETag and Last-Modified for a version. */
export function versionHeaders(reply: FastifyReply, v: Pick<ResourceVersion, 'versionId' | 'lastUpdated'>): FastifyReply {
  return reply.header('etag', `W/"${v.versionId}"`).header('last-modified', new Date(v.lastUpdated).toUTCString());
}

/** Answers a write according to the caller's `Prefer: return=` choice. */
export function sendWritten(request: FastifyRequest, reply: FastifyReply, status: number, v: ResourceVersion, location: string): FastifyReply {
  versionHeaders(reply, v).code(status).header('location', location);
  switch (returnPreference(request)) {
    case 'minimal':
      return reply.send();
    case 'OperationOutcome':
      return reply.header('content-type', FHIR_JSON).send(JSON.stringify(infoOutcome(status === 201 ? 'Created' : 'Updated')));
    case 'representation':
      return reply.header('content-type', FHIR_JSON).send(v.json);
  }
}
