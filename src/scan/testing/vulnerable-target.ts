import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwtClaims } from '../identities.js';

/**
 * A deliberately broken FHIR server for the scanner's tests, loopback only. Every flaw the
 * scanner looks for is planted here on purpose; none of this is how anything should be built.
 */
export interface VulnerableTarget {
  /** The FHIR base over TLS (self-signed, wrong name, TLS 1.0 allowed) when a certificate was given, else over HTTP. */
  readonly base: string;
  /** The port of the plain-HTTP twin of the TLS server. */
  readonly httpPort: number;
  readonly tokens: { readonly a: string; readonly expired: string };
  close(): Promise<void>;
}

export interface TargetOptions {
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Publish a SMART configuration (default true). */
  readonly smart?: boolean;
}

/** An unsigned JWT (alg none): the target believes any token it can decode. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

type Resource = Record<string, unknown> & { resourceType: string; id: string };
const patient = (id: string, family: string): Resource => ({ resourceType: 'Patient', id, name: [{ family, given: ['Ada'] }], birthDate: '1961-04-12', telecom: [{ system: 'phone', value: '555-201-7788' }], identifier: [{ value: `MRN-${id}-0099123` }] });
const observation = (id: string, owner: string): Resource => ({ resourceType: 'Observation', id, status: 'final', code: { text: 'Heart rate' }, subject: { reference: `Patient/${owner}` }, valueQuantity: { value: 72 } });

function dataset(): Resource[] {
  const out = [patient('pat-a', 'Okafor'), patient('pat-b', 'Lindqvist')];
  for (let i = 0; i < 1500; i++) out.push(patient(`gen-${i}`, `Family${i}`));
  out.push(observation('obs-a1', 'pat-a'), observation('obs-a2', 'pat-a'), observation('obs-b1', 'pat-b'), observation('obs-b2', 'pat-b'), observation('obs-b3', 'pat-b'));
  return out;
}

function bundle(base: string, matches: Resource[], included: Resource[] = [], next?: string): Record<string, unknown> {
  const entry = (r: Resource, mode: string): Record<string, unknown> => ({ fullUrl: `${base}/${r.resourceType}/${r.id}`, resource: r, search: { mode } });
  return { resourceType: 'Bundle', type: 'searchset', total: matches.length, link: next === undefined ? [] : [{ relation: 'next', url: next }], entry: [...matches.map((r) => entry(r, 'match')), ...included.map((r) => entry(r, 'include'))] };
}

export async function startVulnerableTarget(o: TargetOptions = {}): Promise<VulnerableTarget> {
  const data = dataset();
  const cursors = new Map<string, Resource[]>();
  const now = Math.floor(Date.now() / 1000);
  let base = '';
  const byRef = (ref: string): Resource | undefined => data.find((r) => `${r.resourceType}/${r.id}` === ref);

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://target.invalid');
    const path = url.pathname;
    const q = url.searchParams;
    const origin = req.headers.origin;
    const caller = jwtClaims((req.headers.authorization ?? '').replace(/^Bearer /, ''))?.['patient'];
    const headers: Record<string, string> = { server: 'nginx/1.2.3', 'x-powered-by': 'Express/4.17.1' };
    // Flaw: CORS reflects any origin with credentials; /metadata pairs * with credentials.
    if (origin !== undefined) Object.assign(headers, { 'access-control-allow-origin': path === '/fhir/metadata' ? '*' : origin, 'access-control-allow-credentials': 'true' });
    const send = (status: number, body: unknown, type = 'application/fhir+json'): void => {
      res.writeHead(status, { ...headers, 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method === 'TRACE') return send(200, `${req.method} ${req.url ?? ''} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}`, 'message/http');
    if (req.method === 'OPTIONS') return void res.writeHead(204, { ...headers, allow: 'GET, POST, PUT, DELETE, TRACE, CONNECT, OPTIONS' }).end();
    if (path === '/files/') return send(200, '<html><head><title>Index of /files/</title></head><body><h1>Index of /files/</h1><a href="export.csv">export.csv</a></body></html>', 'text/html');
    if (path === '/fhir/metadata') return send(200, { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', software: { name: 'LeakyFHIR', version: '0.9.1' }, fhirVersion: '4.0.1', rest: [{ mode: 'server' }] });
    if (path === '/fhir/.well-known/smart-configuration' && o.smart !== false) {
      return send(200, { authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, grant_types_supported: ['authorization_code', 'implicit', 'client_credentials'], response_types_supported: ['code', 'token'], code_challenge_methods_supported: ['plain', 'S256'] }, 'application/json');
    }
    if (path === '/fhir/authorize') {
      if (q.get('client_id') !== 'app' || q.get('redirect_uri') !== 'https://app.example/cb') return send(400, '<p>unknown client</p>', 'text/html');
      // Flaw: a code (or a token) for any request: no PKCE, no aud check, implicit allowed.
      const to = q.get('response_type') === 'token' ? `https://app.example/cb#access_token=${unsignedJwt({ patient: 'pat-a' })}` : `https://app.example/cb?code=${randomBytes(6).toString('hex')}&state=${q.get('state') ?? ''}`;
      return void res.writeHead(302, { ...headers, location: to }).end();
    }
    if (path === '/fhir/token' && req.method === 'POST') {
      if (req.headers.authorization !== `Basic ${Buffer.from('svc-b:secret-b').toString('base64')}`) return send(401, { error: 'invalid_client' }, 'application/json');
      const token = unsignedJwt({ sub: 'svc-b', patient: 'pat-b', scope: 'patient/*.rs', iat: now, exp: now + 7200 });
      return send(200, { access_token: token, token_type: 'Bearer', expires_in: 7200, scope: 'patient/*.rs' }, 'application/json');
    }
    const [, fhir, type, id] = path.split('/');
    if (fhir !== 'fhir' || (type !== 'Patient' && type !== 'Observation')) return send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    if (id !== undefined && id !== '') {
      if (id.includes('<')) return send(400, `<html><body><p>No record ${decodeURIComponent(id)}</p></body></html>`, 'text/html');
      const r = byRef(`${type}/${decodeURIComponent(id)}`); // Flaw: no token needed, no owner check.
      return r === undefined ? send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }) : send(200, r);
    }
    const name = q.get('name') ?? q.get('family') ?? '';
    if (name.includes("'")) return send(500, `SQLITE_ERROR: near "${name}": syntax error`, 'text/plain');
    if (name.includes('<')) return send(400, `<html><body><p>No patient named ${name}</p></body></html>`, 'text/html');
    if (q.has('birthdate') && !/^\d{4}/.test(q.get('birthdate') ?? '')) return send(500, 'Error: invalid date\n    at parseDate (/srv/leaky/search.js:42:11)\n    at search (/srv/leaky/search.js:17:5)', 'text/plain');
    const count = Number(q.get('_count') ?? '20'); // Flaw: no cap; unknown parameters ignored.
    const cursor = q.get('_cursor');
    if (cursor !== null) return send(200, bundle(base, cursors.get(cursor) ?? [])); // Flaw: a cursor works for anyone.
    let matches = data.filter((r) => r.resourceType === type);
    if (q.has('_id')) matches = matches.filter((r) => r.id === q.get('_id'));
    const subject = q.get('patient');
    if (type === 'Observation' && subject !== null) matches = matches.filter((r) => (r['subject'] as { reference: string }).reference === `Patient/${subject}`);
    // Observations are filtered to the caller's own, but includes come from the unfiltered matches.
    const visible = type === 'Observation' && typeof caller === 'string' ? matches.filter((r) => (r['subject'] as { reference: string }).reference === `Patient/${caller}`) : matches;
    const included = q.get('_include') === 'Observation:patient' ? matches.map((r) => byRef((r['subject'] as { reference: string }).reference)).filter((r): r is Resource => r !== undefined) : [];
    let next: string | undefined;
    if (visible.length > count) {
      const key = randomBytes(8).toString('hex');
      cursors.set(key, visible.slice(count));
      next = `${base}/${type}?_cursor=${key}`;
    }
    return send(200, bundle(base, visible.slice(0, count), [...new Map(included.map((r) => [r.id, r])).values()], next));
  };

  const listen = (server: Server): Promise<number> => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const plain = createHttpServer(handler);
  const httpPort = await listen(plain);
  // Flaw: TLS 1.0 and 1.1 accepted, at OpenSSL's lowest security level.
  const secure = o.tls === undefined ? undefined : createHttpsServer({ ...o.tls, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, handler);
  base = secure === undefined ? `http://127.0.0.1:${httpPort}/fhir` : `https://127.0.0.1:${await listen(secure)}/fhir`;
  return {
    base,
    httpPort,
    tokens: {
      a: unsignedJwt({ sub: 'user-a', patient: 'pat-a', scope: 'patient/Patient.rs', iat: now, exp: now + 2 * 86_400 }),
      expired: unsignedJwt({ sub: 'user-a', patient: 'pat-a', scope: 'patient/*.rs', iat: now - 7200, exp: now - 3600 }),
    },
    async close() {
      await Promise.all([plain, ...(secure === undefined ? [] : [secure])].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
