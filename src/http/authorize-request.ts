import { createHash, randomBytes } from 'node:crypto';
import { grantableScopes, isS256Challenge, splitScopes, type SealedRecords } from '../auth/index.js';
import type { ClientRegistry, RegisteredClient } from '../auth/clients.js';

/** A validated authorization request (RFC 6749 section 4.1.1, RFC 7636 section 4.3, SMART 2.0.5). */
export interface AuthorizeRequest {
  readonly clientId: string;
  readonly clientName: string;
  readonly redirectUri: string;
  /** The requested scopes the client may be granted (the consent page offers these). */
  readonly scopes: readonly string[];
  readonly state?: string;
  readonly challenge: string;
}

/** Where a refused request goes: an error page (bad client or redirect URI) or back to the client. */
export type AuthorizeCheck =
  | { readonly ok: true; readonly request: AuthorizeRequest }
  | { readonly ok: false; readonly page: string }
  | { readonly ok: false; readonly redirect: string };

/** The RFC 9207 `iss` and the error, added to the client's redirect URI. */
export function clientRedirect(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/**
 * Checks an authorization request. Until the client and its redirect URI are known good, a
 * problem is shown as a page and never redirected: redirecting to an unchecked URI would make
 * this server an open redirector (RFC 6749 section 4.1.2.1).
 */
export async function checkAuthorizeRequest(clients: ClientRegistry, pairs: readonly [string, string][], o: { fhirBaseUrl: string; issuer: string }): Promise<AuthorizeCheck> {
  const p: Record<string, string> = Object.create(null) as Record<string, string>;
  const repeated = new Set<string>();
  for (const [k, v] of pairs) {
    if (k in p) repeated.add(k);
    p[k] = v;
  }
  const clientId = p['client_id'];
  const client: RegisteredClient | undefined = clientId === undefined || repeated.has('client_id') ? undefined : await clients.lookup(clientId);
  if (client === undefined || !client.grants.includes('authorization_code')) return { ok: false, page: 'The application is not known.' };
  const redirectUri = p['redirect_uri'];
  // Exact string comparison: no prefix, no normalisation (RFC 9700 section 4.1.3).
  if (redirectUri === undefined || repeated.has('redirect_uri') || !client.redirectUris.includes(redirectUri)) {
    return { ok: false, page: 'The application’s return address is not registered.' };
  }
  const state = repeated.has('state') ? undefined : p['state'];
  const fail = (error: string, description: string): AuthorizeCheck => ({
    ok: false,
    redirect: clientRedirect(redirectUri, { error, error_description: description, state, iss: o.issuer }),
  });
  if (repeated.size > 0) return fail('invalid_request', 'A parameter is repeated');
  if (p['response_type'] !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported');
  // S256 only: a missing challenge or `plain` leaves the code usable by whoever intercepts it.
  if (p['code_challenge_method'] !== 'S256' || !isS256Challenge(p['code_challenge'])) {
    return fail('invalid_request', 'code_challenge with code_challenge_method=S256 is required');
  }
  if (p['aud'] !== o.fhirBaseUrl) return fail('invalid_request', 'aud must be this server’s FHIR base URL');
  if (state !== undefined && state.length > 1000) return fail('invalid_request', 'state is too long');
  const scopes = grantableScopes(splitScopes(p['scope']), client.scopes);
  if (scopes.length === 0) return fail('invalid_scope', 'None of the requested scopes may be granted to this application');
  return {
    ok: true,
    request: { clientId: client.clientId, clientName: client.name, redirectUri, scopes, challenge: p['code_challenge'], ...(state === undefined ? {} : { state }) },
  };
}

/** Which step of sign-in a pending request is at. */
export type Step = 'login' | 'mfa' | 'enrol' | 'consent';

/** A request between pages: what was asked, who signed in so far, and the browser it belongs to. */
export interface Pending {
  readonly request: AuthorizeRequest;
  readonly step: Step;
  /** Hash of the browser-binding cookie: the form only works from the browser that opened it. */
  readonly binding: string;
  readonly userId?: string;
  /** The session handle, once sign-in is complete. */
  readonly sessionHandle?: string;
  /** The patient in context, resolved before consent. */
  readonly patient?: string;
  readonly otpFailures?: number;
  /** The TOTP secret being enrolled, shown again if the first code is wrong. */
  readonly enrol?: { readonly secret: string; readonly uri: string };
}

const KIND = 'authz-pending';
/** A sign-in page left open longer than this must start again. */
const PENDING_SECONDS = 600;

/** Hash of a browser-binding cookie value. */
export function bindingHash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Pending requests, keyed by their CSRF token (a new one for every page, so each form posts once).
 * The token is 256 random bits; only its keyed hash is stored.
 */
export class PendingRequests {
  readonly #records: SealedRecords;
  readonly #now: () => Date;

  constructor(records: SealedRecords, now: () => Date) {
    this.#records = records;
    this.#now = now;
  }

  /** Stores a pending request and returns its CSRF token. */
  async save(pending: Pending): Promise<string> {
    const csrf = randomBytes(32).toString('base64url');
    await this.#records.put(KIND, this.#records.keyFor(KIND, csrf), pending, new Date(this.#now().getTime() + PENDING_SECONDS * 1000));
    return csrf;
  }

  /** Takes (once) the pending request of a CSRF token, if the browser binding matches. */
  async take(csrf: string | undefined, binding: string | undefined): Promise<Pending | undefined> {
    if (csrf === undefined || !/^[A-Za-z0-9_-]{43}$/.test(csrf)) return undefined;
    const rec = await this.#records.take<Pending>(KIND, this.#records.keyFor(KIND, csrf));
    if (rec === undefined || binding === undefined || rec.value.binding !== bindingHash(binding)) return undefined;
    return rec.value;
  }
}
