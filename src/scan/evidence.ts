import { header, type Exchange } from './http-client.js';
import { maskBody } from './mask.js';

/** Request headers worth showing; the rest (user agent, accept) are the same on every request. */
const SHOWN_REQUEST_HEADERS = ['origin', 'prefer', 'content-type', 'access-control-request-method'];

/** The request line as sent, with the credential named but never shown. */
export function requestLine(e: Exchange): string {
  const u = new URL(e.url);
  const parts = [`${e.method} ${u.protocol}//${u.host}${u.pathname}${u.search}`];
  const auth = e.requestHeaders['authorization'];
  if (auth !== undefined) parts.push(`Authorization: ${auth.split(' ')[0] ?? ''} <redacted>`);
  for (const h of SHOWN_REQUEST_HEADERS) {
    const v = e.requestHeaders[h];
    if (v !== undefined) parts.push(`${h}: ${v}`);
  }
  return parts.join(' | ');
}

export interface EvidenceOptions {
  /** Response headers to quote (content-type always is). */
  readonly headers?: readonly string[];
  /** The most body characters to quote after masking; 0 quotes none. */
  readonly bodyMax?: number;
}

/**
 * One exchange as evidence: the request, the status, the quoted headers and a masked excerpt of
 * the body. Tokens are never quoted; health data in the body is masked (see mask.ts).
 */
export function evidenceOf(e: Exchange, o: EvidenceOptions = {}): string {
  const lines = [`> ${requestLine(e)}`];
  if (e.status === 0) {
    lines.push(`< no response (${e.error ?? 'error'})`);
    return lines.join('\n');
  }
  const quoted = ['content-type', ...(o.headers ?? [])].map((h) => [h, header(e, h)] as const).filter(([, v]) => v !== undefined);
  lines.push(`< ${e.status}${quoted.map(([h, v]) => ` | ${h}: ${v}`).join('')}`);
  const max = o.bodyMax ?? 300;
  if (max > 0 && e.body.length > 0) lines.push(`< ${maskBody(e.body, max)}`);
  return lines.join('\n');
}

/** Several exchanges, one after another, as a single evidence text. */
export function evidenceOfAll(exchanges: readonly Exchange[], o: EvidenceOptions = {}): string {
  return exchanges.map((e) => evidenceOf(e, o)).join('\n');
}
