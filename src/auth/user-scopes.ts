import { ScopeSet, parseScope } from './scopes.js';

/**
 * Scopes a user may grant a client, besides resource scopes: OpenID Connect and the SMART
 * launch and refresh permissions. Anything else requested is ignored (RFC 6749 section 3.3 lets
 * the server grant less than asked and say so in the response's `scope`).
 */
export const USER_SPECIAL_SCOPES = ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'online_access'] as const;

const SPECIAL = new Set<string>(USER_SPECIAL_SCOPES);
const MAX_SCOPES = 100;

/** Splits a `scope` parameter into distinct scope strings (at most 100). */
export function splitScopes(text: string | undefined): string[] {
  if (text === undefined) return [];
  return [...new Set(text.split(' ').filter((s) => s !== ''))].slice(0, MAX_SCOPES);
}

/**
 * The scopes a user's consent can grant: those requested that the client is registered for,
 * limited to `user/` and `patient/` resource scopes (a user never grants `system/`; `?param`
 * restrictions are kept and enforced by the access policy), and the special scopes above.
 */
export function grantableScopes(requested: readonly string[], clientScopes: string): string[] {
  const registered = new Set(splitScopes(clientScopes));
  const allowed = ScopeSet.parse(clientScopes);
  const out: string[] = [];
  for (const text of requested) {
    if (SPECIAL.has(text)) {
      if (registered.has(text)) out.push(text);
      continue;
    }
    const scope = parseScope(text);
    if (scope === undefined || scope.context === 'system') continue;
    if (allowed.covers(scope)) out.push(text);
  }
  return out;
}

/** Keeps only the scopes the user left checked on the consent page (and that were offered). */
export function checkedScopes(offered: readonly string[], checked: readonly string[]): string[] {
  const kept = new Set(checked);
  return offered.filter((s) => kept.has(s));
}

/**
 * A narrowed scope for a refreshed access token (RFC 6749 section 6): every requested scope
 * must be one granted before or be covered by a granted resource scope; otherwise undefined.
 */
export function narrowScopes(granted: string, requested: string | undefined): string[] | undefined {
  const before = splitScopes(granted);
  if (requested === undefined) return before;
  const wanted = splitScopes(requested);
  if (wanted.length === 0) return undefined;
  const had = new Set(before);
  const resources = ScopeSet.parse(granted);
  for (const text of wanted) {
    if (had.has(text)) continue;
    const scope = parseScope(text);
    if (scope === undefined || !resources.covers(scope)) return undefined;
  }
  return wanted;
}

/** The resource scopes of a scope list, as the token service takes them. */
export function resourceScopes(scopes: readonly string[]): ScopeSet {
  return ScopeSet.parse(scopes.join(' '));
}
