import type { FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { Principal, TokenService } from '../auth/index.js';
import { authenticate } from './fhir-request.js';

export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The admin API's gate: a valid bearer token (else 401) whose principal holds `security-admin`
 * (else 403). Scopes do not widen it: only the role does.
 */
export function adminGuard(tokens: TokenService): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    // Default deny: administration is the security-admin role's alone.
    await requireRole(request, tokens, ['security-admin'], 'The admin API needs the security-admin role');
  };
}

/** Authenticates the request (else 401) and requires one of `roles` (else 403 with `message`). */
export async function requireRole(request: FastifyRequest, tokens: TokenService, roles: readonly string[], message: string): Promise<Principal> {
  const principal = await authenticate(request, tokens);
  if (!principal.roles.some((r) => roles.includes(r))) throw new VigilError('ERR_SCOPE', message);
  return principal;
}

/** The authenticated principal of a guarded request. */
export function adminOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new VigilError('ERR_UNAUTHENTICATED', 'The access token is missing, invalid or expired');
  return request.principal;
}

/** Names the precise admin action in the request's audit entry, with ids only (never names or secrets). */
export function auditAdmin(request: FastifyRequest, subtype: string, ...entities: string[]): void {
  if (request.audit === undefined) return;
  request.audit.subtype = subtype;
  request.audit.entities.push(...entities);
}

/** A JSON body that is an object holding only the allowed keys; anything else is a clear 400. */
export function objectBody(request: FastifyRequest, allowed: readonly string[]): Record<string, unknown> {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new VigilError('ERR_BAD_REQUEST', 'The request body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new VigilError('ERR_BAD_REQUEST', `Unknown field in the request body; allowed: ${allowed.join(', ')}`);
  return body as Record<string, unknown>;
}

/** An optional string field. */
export function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new VigilError('ERR_BAD_REQUEST', `${key} must be a string`);
  return v;
}

/** An optional list of strings. */
export function optStrings(body: Record<string, unknown>, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new VigilError('ERR_BAD_REQUEST', `${key} must be a list of strings`);
  return v as string[];
}

/** Sends a JSON (not FHIR) answer. */
export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).header('content-type', JSON_TYPE).header('cache-control', 'no-store').send(JSON.stringify(value));
}
