import type { Exchange, ScanClient } from './http-client.js';
import type { ScanMemo } from './context.js';

/** Parses a JSON object body, or undefined when the body is not one. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fetches the SMART configuration once: first where SMART App Launch puts it (under the FHIR
 * base), then at the site root, where many servers publish it instead.
 */
export async function loadSmartConfig(client: ScanClient, base: string, memo: ScanMemo): Promise<{ doc?: Record<string, unknown>; tried: Exchange[] }> {
  const tried: Exchange[] = [];
  if (memo.smart !== undefined) return { doc: memo.smart, tried };
  const urls = [`${base}/.well-known/smart-configuration`, `${new URL(base).origin}/.well-known/smart-configuration`];
  for (const url of new Set(urls)) {
    const e = await client.request('GET', url, { headers: { accept: 'application/json' } });
    tried.push(e);
    const doc = e.status === 200 ? jsonObject(e.body) : undefined;
    if (doc !== undefined) {
      memo.smart = doc;
      memo.smartUrl = url;
      return { doc, tried };
    }
  }
  return { tried };
}

/** Fetches `/metadata` (the CapabilityStatement) once, without a token, as any stranger would. */
export async function loadMetadata(client: ScanClient, base: string, memo: ScanMemo): Promise<{ doc?: Record<string, unknown>; exchange?: Exchange }> {
  const e = memo.metadataExchange ?? (await client.request('GET', `${base}/metadata`));
  memo.metadataExchange = e;
  const doc = e.status === 200 ? jsonObject(e.body) : undefined;
  if (doc !== undefined && doc['resourceType'] === 'CapabilityStatement') memo.metadata = doc;
  return { ...(memo.metadata === undefined ? {} : { doc: memo.metadata }), exchange: e };
}

/** The token endpoint: from the SMART document, else from the CapabilityStatement's oauth-uris extension. */
export function tokenEndpoint(memo: ScanMemo): string | undefined {
  const fromSmart = memo.smart?.['token_endpoint'];
  if (typeof fromSmart === 'string') return fromSmart;
  return oauthUri(memo.metadata, 'token');
}

/** A URL from the CapabilityStatement's `oauth-uris` security extension (`token`, `authorize`). */
export function oauthUri(metadata: Record<string, unknown> | undefined, which: string): string | undefined {
  const rest = (metadata?.['rest'] as Record<string, unknown>[] | undefined)?.[0];
  const security = rest?.['security'] as Record<string, unknown> | undefined;
  for (const ext of (security?.['extension'] as Record<string, unknown>[] | undefined) ?? []) {
    if (typeof ext['url'] !== 'string' || !ext['url'].endsWith('oauth-uris')) continue;
    for (const inner of (ext['extension'] as Record<string, unknown>[] | undefined) ?? []) {
      if (inner['url'] === which && typeof inner['valueUri'] === 'string') return inner['valueUri'];
    }
  }
  return undefined;
}
