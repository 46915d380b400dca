import { checkServerIdentity } from 'node:tls';
import { finding, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { header } from '../http-client.js';
import { MAP } from '../mappings.js';
import { handshake, isLoopback, type Handshake } from '../tls-probe.js';

const DAY = 86_400_000;
/** HSTS shorter than half a year leaves a returning browser open to downgrade too often. */
const MIN_HSTS_SECONDS = 15_552_000;
const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);

function certFacts(h: Handshake): string {
  const c = h.cert;
  if (c === undefined) return `handshake: ${h.protocol ?? '?'}`;
  const san = c.subjectaltname ?? '(none)';
  return `handshake: ${h.protocol ?? '?'} | subject CN: ${String(c.subject?.CN ?? '?')} | issuer CN: ${String(c.issuer?.CN ?? '?')} | subjectAltName: ${san} | valid ${c.valid_from} to ${c.valid_to}${h.authorizationError === undefined ? '' : ` | chain: ${h.authorizationError}`}`;
}

/** The certificate: dates, the name it is for, and whether anyone vouches for it. */
function judgeCertificate(ctx: ScanContext, host: string, h: Handshake): void {
  const cert = h.cert;
  if (cert === undefined || cert.valid_to === undefined) return;
  const facts = certFacts(h);
  const now = ctx.options.now().getTime();
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  if (now > notAfter || now < notBefore) {
    ctx.add(finding('tls-cert-expired', 'high', 'transport', 'The server certificate is outside its validity period', facts, 'Renew the certificate now and automate renewal (ACME or your PKI) with an alert well before expiry.', MAP.transport));
  } else if (notAfter - now < 30 * DAY) {
    ctx.add(finding('tls-cert-expiring', 'low', 'transport', 'The server certificate expires within 30 days', facts, 'Renew the certificate and automate renewal with an alert well before expiry.', MAP.transport));
  }
  // A certificate for another name means clients must switch verification off to connect at all.
  if (checkServerIdentity(host, cert) !== undefined) {
    ctx.add(finding('tls-cert-hostname', 'high', 'transport', 'The server certificate is not issued for the host name clients use', `${facts} | host: ${host}`, 'Issue a certificate whose subjectAltName lists every name and address clients use to reach the server.', MAP.transport));
  }
  if (h.authorizationError !== undefined && SELF_SIGNED.has(h.authorizationError)) {
    ctx.add(finding('tls-cert-self-signed', 'medium', 'transport', 'The server certificate is self-signed', facts, 'Use a certificate from a public CA or from the organisation’s own CA that clients trust (pass that CA to the scan with --ca).', MAP.transport));
  } else if (h.authorizationError !== undefined && h.authorizationError !== 'CERT_HAS_EXPIRED') {
    ctx.add(finding('tls-cert-untrusted', 'medium', 'transport', 'The server certificate chain does not verify', facts, 'Serve the full chain (leaf and intermediates) from a CA clients trust.', MAP.transport));
  }
}

/** Offers of TLS 1.0 and 1.1, each tried with a handshake pinned to that version alone. */
async function legacyVersions(ctx: ScanContext, host: string, port: number): Promise<void> {
  const accepted: string[] = [];
  for (const v of ['TLSv1', 'TLSv1.1'] as const) {
    if (!(await ctx.client.pace(host))) return;
    const h = await handshake({ host, port, minVersion: v, maxVersion: v });
    if (h.ok) accepted.push(v);
  }
  if (accepted.length > 0) {
    ctx.add(finding('tls-legacy-version', 'medium', 'transport', `The server accepts ${accepted.join(' and ')}`, `handshakes pinned to ${accepted.join(', ')} on ${host}:${port} completed`, 'Accept TLS 1.2 and 1.3 only (e.g. nginx `ssl_protocols TLSv1.2 TLSv1.3;`, Node `minVersion: "TLSv1.2"`).', MAP.transport));
  }
}

async function hsts(ctx: ScanContext): Promise<void> {
  const e = await ctx.client.request('GET', `${ctx.base}/metadata`);
  if (e.status === 0) return;
  const value = header(e, 'strict-transport-security');
  const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(value ?? '')?.[1] ?? 'NaN');
  if (value === undefined) {
    ctx.add(finding('hsts-missing', 'medium', 'transport', 'No Strict-Transport-Security header', evidenceOf(e, { headers: ['strict-transport-security'], bodyMax: 0 }), 'Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS response.', MAP.transport));
  } else if (!(maxAge >= MIN_HSTS_SECONDS)) {
    ctx.add(finding('hsts-short', 'low', 'transport', 'Strict-Transport-Security has a short max-age', evidenceOf(e, { headers: ['strict-transport-security'], bodyMax: 0 }), 'Use a max-age of at least a year (31536000).', MAP.transport));
  }
}

/** The same API over plain HTTP: a client that forgets the `s` sends tokens and PHI in clear. */
async function plainHttp(ctx: ScanContext, url: URL): Promise<void> {
  const plain = new URL(`${url.protocol === 'https:' ? 'http:' : url.protocol}//${url.hostname}${url.protocol === 'https:' ? `:${ctx.options.httpPort ?? 80}` : url.port === '' ? '' : `:${url.port}`}${url.pathname}`);
  const e = await ctx.client.request('GET', `${plain.href.replace(/\/+$/, '')}/metadata`);
  if (e.status === 0 || (e.status >= 300 && e.status < 400 && (header(e, 'location') ?? '').startsWith('https:'))) return;
  if (e.status >= 400 && url.protocol === 'https:') return;
  const loopback = isLoopback(url.hostname);
  ctx.add(finding('plain-http', loopback ? 'low' : 'high', 'transport', loopback ? 'The API answers over plain HTTP (loopback only)' : 'The API answers over plain HTTP', evidenceOf(e, { bodyMax: 120 }),
    loopback ? 'Fine on one machine; put TLS in front before anything reaches the network.' : 'Serve the API over HTTPS only; answer plain HTTP with a redirect to HTTPS (no data) or not at all, and send HSTS.', MAP.transport));
}

export const transportCheck: Check = {
  name: 'transport',
  async run(ctx) {
    const url = new URL(ctx.base);
    await plainHttp(ctx, url);
    if (url.protocol !== 'https:') return;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? 443 : Number(url.port);
    if (!(await ctx.client.pace(url.hostname))) return;
    const h = await handshake({ host, port, ...(ctx.options.ca === undefined ? {} : { ca: ctx.options.ca }) });
    if (!h.ok) return;
    judgeCertificate(ctx, host, h);
    await legacyVersions(ctx, host, port);
    await hsts(ctx);
  },
};
