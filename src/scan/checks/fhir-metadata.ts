import { finding, type Check } from '../context.js';
import { loadMetadata, loadSmartConfig, oauthUri } from '../discovery.js';
import { evidenceOf } from '../evidence.js';
import { MAP } from '../mappings.js';

/** Codes of `CapabilityStatement.rest.security.service` that name a real authentication scheme. */
const AUTH_SERVICES = /SMART-on-FHIR|OAuth|OpenIDConnect|Certificates|Kerberos|Basic/i;

/**
 * Reads `/metadata` as a stranger would and judges what it advertises: whether it claims any
 * authentication at all, whether SMART is discoverable, and which software version it names.
 */
export const fhirMetadataCheck: Check = {
  name: 'fhir metadata',
  async run(ctx) {
    const { doc, exchange } = await loadMetadata(ctx.client, ctx.base, ctx.memo);
    if (doc === undefined || exchange === undefined) return;
    const rest = (doc['rest'] as Record<string, unknown>[] | undefined)?.[0];
    const security = rest?.['security'] as Record<string, unknown> | undefined;
    const services = ((security?.['service'] as Record<string, unknown>[] | undefined) ?? []).flatMap((s) => [
      ...((s['coding'] as Record<string, unknown>[] | undefined) ?? []).map((c) => String(c['code'] ?? '')),
      String(s['text'] ?? ''),
    ]);
    if (!services.some((s) => AUTH_SERVICES.test(s))) {
      ctx.add(finding('metadata-no-security', 'medium', 'auth', 'The CapabilityStatement advertises no authentication service', evidenceOf(exchange, { bodyMax: 300 }),
        'Protect the API with OAuth2 / SMART on FHIR and say so in `rest.security` (service SMART-on-FHIR, and the oauth-uris extension), so clients know a token is required.', MAP.noAuth));
    }
    const smart = await loadSmartConfig(ctx.client, ctx.base, ctx.memo);
    if (smart.doc === undefined && oauthUri(doc, 'authorize') === undefined && oauthUri(doc, 'token') === undefined) {
      ctx.add(finding('metadata-no-smart', 'low', 'oauth', 'SMART on FHIR is not discoverable', [evidenceOf(exchange, { bodyMax: 0 }), ...smart.tried.map((e) => evidenceOf(e, { bodyMax: 0 }))].join('\n'),
        'Publish `/.well-known/smart-configuration` under the FHIR base and the oauth-uris extension in the CapabilityStatement, so apps use the standard, checked sign-in flow.', MAP.authn));
    }
    const software = doc['software'] as Record<string, unknown> | undefined;
    if (typeof software?.['version'] === 'string' && software['version'] !== '') {
      ctx.add(finding('metadata-software-version', 'info', 'disclosure', 'The CapabilityStatement names the server software and version', `software: ${String(software['name'] ?? '?')} ${software['version']}\n${evidenceOf(exchange, { bodyMax: 0 })}`,
        'Acceptable for a FHIR server (the spec allows it); keep the software patched, as its version is public.', MAP.inventory));
    }
  },
};
