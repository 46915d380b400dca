import { VigilError } from '../errors.js';

/** The OAuth grants a client may be registered for. */
export const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

export type GrantType = (typeof GRANT_TYPES)[number];

/** A client's settings beyond its scopes and roles, kept as JSON in the row's `settings` column. */
export interface ClientSettings {
  readonly grants: readonly GrantType[];
  readonly redirectUris: readonly string[];
  /** A public client (a browser or native app) holds no secret and authenticates with PKCE alone. */
  readonly public: boolean;
  /** Where the client's public keys are, for `private_key_jwt` authentication. */
  readonly jwksUrl?: string;
}

/** What a row without settings (`{}`) means: a confidential machine client. */
export const DEFAULT_SETTINGS: ClientSettings = { grants: ['client_credentials'], redirectUris: [], public: false };

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const MAX_URL = 2000;

/**
 * Checks a URL a client registers: absolute https, or http on the loopback interface only (native
 * apps, RFC 8252 section 7.3); no fragment (RFC 6749 section 3.1.2) and no user:password part.
 */
export function checkClientUrl(text: string, what: string): string {
  const bad = (why: string): VigilError => new VigilError('ERR_BAD_REQUEST', `The ${what} ${why}`);
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_URL) throw bad(`must be a URL of at most ${MAX_URL} characters`);
  if (text.includes('#')) throw bad('must not have a fragment');
  if (/[\s\u0000-\u001f\u007f]/.test(text)) throw bad('must not contain spaces or control characters');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('must be an absolute URL');
  }
  if (url.username !== '' || url.password !== '') throw bad('must not carry credentials');
  if (url.protocol === 'https:') return text;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return text;
  throw bad('must use https (http only on 127.0.0.1, [::1] or localhost)');
}

/** Validates settings given at registration, returning them in canonical order. */
export function checkSettings(input: { grants?: readonly string[]; redirectUris?: readonly string[]; public?: boolean; jwksUrl?: string }): ClientSettings {
  const grants = input.grants === undefined || input.grants.length === 0 ? ['client_credentials'] : [...new Set(input.grants)];
  for (const g of grants) {
    if (!(GRANT_TYPES as readonly string[]).includes(g)) throw new VigilError('ERR_BAD_REQUEST', `Unknown grant type; use ${GRANT_TYPES.join(', ')}`);
  }
  const redirectUris = [...new Set((input.redirectUris ?? []).map((u) => checkClientUrl(u, 'redirect URI')))];
  if (redirectUris.length > 20) throw new VigilError('ERR_BAD_REQUEST', 'At most 20 redirect URIs');
  const isPublic = input.public === true;
  const code = grants.includes('authorization_code');
  // Each refusal below closes a way to register a client that could be misused or never work.
  if (code && redirectUris.length === 0) throw new VigilError('ERR_BAD_REQUEST', 'The authorization_code grant needs at least one redirect URI');
  if (!code && redirectUris.length > 0) throw new VigilError('ERR_BAD_REQUEST', 'Redirect URIs are only for the authorization_code grant');
  if (grants.includes('refresh_token') && !code) throw new VigilError('ERR_BAD_REQUEST', 'The refresh_token grant comes with authorization_code');
  if (isPublic && grants.includes('client_credentials')) throw new VigilError('ERR_BAD_REQUEST', 'A public client cannot use client_credentials (it cannot keep a secret)');
  if (isPublic && input.jwksUrl !== undefined) throw new VigilError('ERR_BAD_REQUEST', 'A public client has no keys; drop --jwks-url or --public');
  const ordered = GRANT_TYPES.filter((g) => grants.includes(g));
  const settings: ClientSettings = { grants: ordered, redirectUris, public: isPublic };
  return input.jwksUrl === undefined ? settings : { ...settings, jwksUrl: checkClientUrl(input.jwksUrl, 'JWKS URL') };
}

/** The JSON kept in the row: `{}` for the defaults, so older rows and their MACs stay as they were. */
export function settingsJson(s: ClientSettings): string {
  const isDefault = s.public === false && s.jwksUrl === undefined && s.redirectUris.length === 0 && s.grants.length === 1 && s.grants[0] === 'client_credentials';
  if (isDefault) return '{}';
  return JSON.stringify({ grants: s.grants, redirectUris: s.redirectUris, public: s.public, ...(s.jwksUrl === undefined ? {} : { jwksUrl: s.jwksUrl }) });
}

/** Reads a row's settings; undefined when they do not parse (the client is then unusable). */
export function parseSettings(json: string): ClientSettings | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  if (Object.keys(o).length === 0) return DEFAULT_SETTINGS;
  const grants = o['grants'];
  const uris = o['redirectUris'];
  const jwks = o['jwksUrl'];
  if (!Array.isArray(grants) || !grants.every((g) => (GRANT_TYPES as readonly unknown[]).includes(g))) return undefined;
  if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) return undefined;
  if (typeof o['public'] !== 'boolean' || (jwks !== undefined && typeof jwks !== 'string')) return undefined;
  const settings: ClientSettings = { grants: grants as GrantType[], redirectUris: uris as string[], public: o['public'] };
  return jwks === undefined ? settings : { ...settings, jwksUrl: jwks as string };
}
