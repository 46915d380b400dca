import { finding, type Check } from '../context.js';
import { loadSmartConfig } from '../discovery.js';
import { evidenceOf } from '../evidence.js';
import type { Exchange } from '../http-client.js';
import { MAP } from '../mappings.js';
import { isLoopback } from '../tls-probe.js';

/** Fields SMART App Launch 2 requires of the discovery document. */
const REQUIRED = ['token_endpoint', 'grant_types_supported', 'capabilities', 'code_challenge_methods_supported'];
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'registration_endpoint', 'jwks_uri'];

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * `/.well-known/smart-configuration` sanity: present, complete, HTTPS endpoints, S256 PKCE
 * without `plain`, and no implicit grant.
 */
export const smartConfigCheck: Check = {
  name: 'smart configuration',
  async run(ctx) {
    const { doc, tried } = await loadSmartConfig(ctx.client, ctx.base, ctx.memo);
    if (doc === undefined) {
      // Not finding it is reported by the metadata check together with the CapabilityStatement.
      return;
    }
    const url = ctx.memo.smartUrl ?? ctx.base;
    const shown: Exchange | undefined = tried.at(-1);
    const evidence = (extra: string): string => `${extra}\n${shown === undefined ? `GET ${url}` : evidenceOf(shown, { bodyMax: 0 })}`;
    const problems = REQUIRED.filter((f) => doc[f] === undefined).map((f) => `missing ${f}`);
    const insecure = ENDPOINTS.filter((f) => {
      const v = doc[f];
      return typeof v === 'string' && v.startsWith('http:') && !isLoopback(new URL(v).hostname);
    });
    if (insecure.length > 0) problems.push(`plain-HTTP endpoints: ${insecure.join(', ')}`);
    if (problems.length > 0) {
      ctx.add(finding('smart-config-invalid', insecure.length > 0 ? 'high' : 'low', 'oauth', 'The SMART configuration is incomplete or unsafe', evidence(problems.join('; ')),
        'Publish every field SMART App Launch 2 requires, with HTTPS endpoints only.', insecure.length > 0 ? MAP.transport : MAP.authn));
    }
    const methods = strings(doc['code_challenge_methods_supported']);
    if (methods.includes('plain') || (doc['code_challenge_methods_supported'] !== undefined && !methods.includes('S256'))) {
      ctx.add(finding('pkce-plain-advertised', 'medium', 'oauth', 'The SMART configuration offers PKCE `plain` or lacks S256', evidence(`code_challenge_methods_supported: ${JSON.stringify(methods)}`),
        'Support S256 only: `code_challenge_methods_supported: ["S256"]`, and refuse `plain` at the authorize endpoint.', MAP.authn));
    }
    const responseTypes = strings(doc['response_types_supported']);
    const implicit = responseTypes.some((t) => t.split(' ').includes('token')) || strings(doc['grant_types_supported']).includes('implicit');
    if (implicit) {
      ctx.add(finding('implicit-grant', 'medium', 'oauth', 'The implicit grant is offered', evidence(`response_types_supported: ${JSON.stringify(responseTypes)}; grant_types_supported: ${JSON.stringify(strings(doc['grant_types_supported']))}`),
        'Drop the implicit grant (OAuth 2.0 Security BCP, RFC 9700): offer the authorization code flow with PKCE S256 only.', MAP.authn));
    }
  },
};
