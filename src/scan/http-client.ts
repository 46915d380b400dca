import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RateLimiter } from './rate-limiter.js';

/** One request the scanner sent and what came back (status 0 when nothing came back). */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly requestBody?: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body was longer than the byte cap and was cut. */
  readonly truncated: boolean;
  /** Why nothing came back: a network error code, `timeout`, or `out-of-scope`. */
  readonly error?: string;
}

export interface RequestOptions {
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** A bearer token for the Authorization header. */
  readonly token?: string;
  /** The most body bytes to keep (default 256 KiB); the rest is read and dropped. */
  readonly maxBytes?: number;
}

export interface ScanClientOptions {
  /** Host names the scan may talk to; every other host is refused without a packet sent. */
  readonly hosts: readonly string[];
  readonly perSecond: number;
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

/**
 * The only way the scanner reaches the network. It paces every request, refuses hosts it was not
 * given, and never follows a redirect: a 3xx is returned as it is, so a scan cannot be steered to
 * somebody else's system.
 */
export class ScanClient {
  readonly #hosts: Set<string>;
  readonly #limiter: RateLimiter;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  /** URLs the scan wanted and refused because their host was not given. */
  readonly refused: string[] = [];
  sent = 0;

  constructor(o: ScanClientOptions) {
    this.#hosts = new Set(o.hosts.map((h) => h.toLowerCase()));
    this.#limiter = new RateLimiter({ perSecond: o.perSecond });
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#userAgent = o.userAgent ?? 'vigil-scan';
  }

  /** True when `url` is http(s) on one of the given hosts. */
  inScope(url: string): boolean {
    try {
      const u = new URL(url);
      return (u.protocol === 'http:' || u.protocol === 'https:') && this.#hosts.has(u.hostname.toLowerCase());
    } catch {
      return false;
    }
  }

  /** Waits for a slot for a connection that is not an HTTP request (a TLS handshake). */
  async pace(host: string): Promise<boolean> {
    if (!this.#hosts.has(host.toLowerCase())) return false;
    await this.#limiter.take();
    this.sent += 1;
    return true;
  }

  async request(method: string, url: string, o: RequestOptions = {}): Promise<Exchange> {
    const requestHeaders: Record<string, string> = { 'user-agent': this.#userAgent, accept: 'application/fhir+json, application/json;q=0.9, */*;q=0.1', ...o.headers };
    if (o.token !== undefined) requestHeaders['authorization'] = `Bearer ${o.token}`;
    const base = { method, url, requestHeaders, ...(o.body === undefined ? {} : { requestBody: o.body }) };
    if (!this.inScope(url)) {
      this.refused.push(url);
      return { ...base, status: 0, headers: {}, body: '', truncated: false, error: 'out-of-scope' };
    }
    await this.#limiter.take();
    this.sent += 1;
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const maxBytes = o.maxBytes ?? 256 * 1024;
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      const done = (e: Exchange): void => {
        if (!settled) {
          settled = true;
          resolve(e);
        }
      };
      const fail = (error: string): void => done({ ...base, status: 0, headers: {}, body: '', truncated: false, error });
      // Certificates are judged by the transport check; the other checks still look behind a bad one.
      const req = send(u, { method, headers: requestHeaders, agent: false, rejectUnauthorized: false, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (kept >= maxBytes) {
            truncated = true;
            return;
          }
          const room = maxBytes - kept;
          if (chunk.length > room) truncated = true;
          chunks.push(chunk.subarray(0, room));
          kept += Math.min(chunk.length, room);
        });
        res.on('end', () => done({ ...base, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), truncated }));
        res.on('error', () => fail('ERR_RESPONSE'));
      });
      req.on('timeout', () => {
        req.destroy();
        fail('timeout');
      });
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'ERR_NETWORK'));
      req.end(o.body);
    });
  }
}

/** A header's value as one string (repeated headers joined with a comma), or undefined. */
export function header(e: Exchange, name: string): string | undefined {
  const v = e.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}
