import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * Test helpers for the sign-in flows: a cookie-keeping browser over `app.inject()`, PKCE pairs,
 * and one function that walks the authorize pages to a code. Used by the *.int.test.ts files.
 */

/** A PKCE verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The CSRF token of a rendered page. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (m?.[1] === undefined) throw new Error('no csrf field on the page');
  return m[1];
}

/** A browser: keeps cookies between requests, like one would (no SameSite emulation). */
export class TestBrowser {
  readonly cookies = new Map<string, string>();
  readonly #app: FastifyInstance;

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  #keep(res: LightMyRequestResponse): LightMyRequestResponse {
    const set = res.headers['set-cookie'];
    for (const line of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair === undefined || eq < 0) continue;
      const value = pair.slice(eq + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
    return res;
  }

  cookieHeader(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.#keep(await this.#app.inject({ method: 'GET', url, headers: this.cookieHeader() }));
  }

  async post(url: string, pairs: [string, string][], headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const payload = new URLSearchParams(pairs).toString();
    return this.#keep(await this.#app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader(), ...headers } }));
  }
}

export interface AuthorizeParams {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly challenge: string;
  readonly aud: string;
  readonly state?: string;
  readonly method?: string;
}

/** The authorize URL for these parameters (the method defaults to S256). */
export function authorizeUrl(p: AuthorizeParams): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: p.clientId, redirect_uri: p.redirectUri, scope: p.scope, state: p.state ?? 'st-1', aud: p.aud });
  if (p.challenge !== '') q.set('code_challenge', p.challenge);
  if (p.method !== '') q.set('code_challenge_method', p.method ?? 'S256');
  return `/oauth2/authorize?${q.toString()}`;
}

export interface SignIn extends AuthorizeParams {
  readonly username: string;
  readonly password: string;
  /** A code for the second factor, asked for when the page shows the OTP form. */
  readonly otp?: () => string;
  /** Scopes to uncheck on the consent page. */
  readonly uncheck?: readonly string[];
}

/** Walks login (and MFA) and consent; returns the redirect and, when there is one, the code. */
export async function signIn(browser: TestBrowser, s: SignIn): Promise<{ location: string; code?: string; consent: string }> {
  let page = await browser.get(authorizeUrl(s));
  if (page.statusCode !== 200) throw new Error(`authorize answered ${page.statusCode}`);
  if (page.body.includes('name="password"')) {
    page = await browser.post('/oauth2/authorize', [['csrf', csrfOf(page.body)], ['username', s.username], ['password', s.password]]);
  }
  if (page.body.includes('name="otp"')) {
    if (s.otp === undefined) throw new Error('the page asks for an OTP');
    page = await browser.post('/oauth2/authorize', [['csrf', csrfOf(page.body)], ['otp', s.otp()]]);
  }
  if (!page.body.includes('name="scope"')) throw new Error(`no consent page (status ${page.statusCode})`);
  const offered = [...page.body.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => (m[1] ?? '').replace(/&#47;/g, '/').replace(/&#61;/g, '='));
  const kept = offered.filter((x) => !(s.uncheck ?? []).includes(x));
  const res = await browser.post('/oauth2/authorize', [['csrf', csrfOf(page.body)], ...kept.map((x): [string, string] => ['scope', x]), ['decision', 'allow']]);
  const location = String(res.headers.location ?? '');
  const code = location === '' ? undefined : (new URL(location).searchParams.get('code') ?? undefined);
  return { location, consent: page.body, ...(code === undefined ? {} : { code }) };
}

/** A token endpoint request with form fields. */
export function tokenRequest(app: FastifyInstance, fields: Record<string, string>, headers: Record<string, string> = {}, url = '/oauth2/token'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() });
}
