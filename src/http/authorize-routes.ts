import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkedScopes, readCookie, sessionCookie, sessionCookieName, type Session } from '../auth/index.js';
import type { User } from '../auth/users.js';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import { consentPage, enrolPage, errorPage, loginPage, otpPage, pageCsp } from './authorize-pages.js';
import { checkAuthorizeRequest, clientRedirect, PendingRequests, bindingHash, type AuthorizeRequest, type Pending } from './authorize-request.js';
import { FormBody } from './json-body.js';
import { RateLimiter } from './rate-limit.js';
import { launchPatient } from './launch-context.js';

const SIGN_IN_FAILED = 'The user name or password is wrong, or sign-in is paused for a while. Try again later.';
const OTP_FAILED = 'The code is wrong, already used, or sign-in is paused for a while.';
/** Wrong codes allowed on one page before sign-in must start again (lockout still counts them all). */
const MAX_OTP_FAILURES = 5;

/**
 * The SMART App Launch authorization endpoint (RFC 6749 section 4.1): GET (or POST, `authorize-post`)
 * with the request's parameters shows the sign-in page; POSTs carrying the page's CSRF token move
 * through sign-in, the second factor (or its enrolment), and consent, then redirect with a code.
 */
export function registerAuthorizeRoutes(app: FastifyInstance, vigil: Vigil): void {
  const { config } = vigil;
  const https = config.publicUrl.startsWith('https:');
  const bindingName = https ? '__Host-vigil_authz' : 'vigil_authz';
  const pending = new PendingRequests(vigil.records, vigil.oauth.now);
  // Each sign-in attempt costs a scrypt check; each address gets a bounded number.
  const limiter = new RateLimiter(config.tokenRateLimit, 60_000);
  const check = (pairs: [string, string][]) => checkAuthorizeRequest(vigil.clients, pairs, { fhirBaseUrl: config.fhirBaseUrl, issuer: config.publicUrl });

  const html = (reply: FastifyReply, status: number, body: string, redirectUri?: string): FastifyReply =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('x-authorize-csp', pageCsp(redirectUri === undefined ? undefined : new URL(redirectUri).origin)).send(body);

  /** The browser-binding cookie: read it, or set a new one (SameSite=Strict: cross-site posts lack it). */
  const binding = (request: FastifyRequest, reply: FastifyReply): string => {
    const have = readCookie(request.headers.cookie, bindingName);
    if (have !== undefined && /^[A-Za-z0-9_-]{43}$/.test(have)) return have;
    const value = randomBytes(32).toString('base64url');
    reply.header('set-cookie', [`${bindingName}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', ...(https ? ['Secure'] : [])].join('; '));
    return value;
  };

  const liveSession = async (request: FastifyRequest): Promise<{ session: Session; user: User } | undefined> => {
    const id = readCookie(request.headers.cookie, sessionCookieName(https));
    const session = id === undefined ? undefined : await vigil.sessions.resume(id);
    const user = session === undefined ? undefined : await vigil.users.get(session.userId);
    return session === undefined || user === undefined || user.disabled ? undefined : { session, user };
  };

  const toConsent = async (reply: FastifyReply, req: AuthorizeRequest, bind: string, user: User, session: Session): Promise<FastifyReply> => {
    const patient = req.scopes.includes('launch/patient') ? await launchPatient(vigil.repository, user.fhirUser) : undefined;
    // No patient to put in context: the launch scope is not offered rather than granted empty.
    const offered = patient === undefined ? req.scopes.filter((s) => s !== 'launch/patient') : req.scopes;
    const next: Pending = { request: { ...req, scopes: offered }, step: 'consent', binding: bindingHash(bind), userId: user.id, sessionHandle: session.handle, ...(patient === undefined ? {} : { patient }) };
    return html(reply, 200, consentPage(req.clientName, await pending.save(next), offered, patient), req.redirectUri);
  };

  /** Sign-in complete: a session, its cookie, then consent. */
  const signedIn = async (reply: FastifyReply, req: AuthorizeRequest, bind: string, user: User): Promise<FastifyReply> => {
    const { id, session } = await vigil.sessions.start(user.id, req.clientId);
    reply.header('set-cookie', sessionCookie(id, https, config.sessionMaxSeconds));
    return toConsent(reply, req, bind, user, session);
  };

  const start = async (request: FastifyRequest, reply: FastifyReply, pairs: [string, string][]): Promise<FastifyReply> => {
    const checked = await check(pairs);
    if (!checked.ok) return 'page' in checked ? html(reply, 400, errorPage(checked.page)) : reply.code(302).header('location', checked.redirect).send();
    const req = checked.request;
    const bind = binding(request, reply);
    const prompt = pairs.find(([k]) => k === 'prompt')?.[1];
    const live = prompt === 'login' ? undefined : await liveSession(request);
    if (live !== undefined) {
      if (request.audit !== undefined) request.audit.user = live.user.id;
      return toConsent(reply, req, bind, live.user, live.session);
    }
    const csrf = await pending.save({ request: req, step: 'login', binding: bindingHash(bind) });
    return html(reply, 200, loginPage(req.clientName, csrf));
  };

  const failed = (request: FastifyRequest, reply: FastifyReply, subtype: string, locked: boolean): void => {
    if (request.audit !== undefined) request.audit.subtype = subtype;
    request.auditReason = locked ? 'ERR_RATE_LIMITED' : 'ERR_UNAUTHENTICATED';
    reply.code(401);
  };

  /** One step of a pending request; `form` holds the single-valued fields, `scopes` the checked boxes. */
  const step = async (request: FastifyRequest, reply: FastifyReply, p: Pending, bind: string, form: Record<string, string>, scopes: string[]): Promise<FastifyReply> => {
    const req = p.request;
    const again = async (next: Pending): Promise<string> => pending.save(next);
    const audit = request.audit;
    switch (p.step) {
      case 'login': {
        const result = await vigil.users.signIn(form['username'] ?? '', form['password'] ?? '', request.ip);
        if (!result.ok) {
          failed(request, reply, 'login-failed', result.reason === 'locked');
          return html(reply, 401, loginPage(req.clientName, await again(p), SIGN_IN_FAILED));
        }
        const user = result.user;
        if (audit !== undefined) [audit.subtype, audit.user] = ['login', user.id];
        if (!vigil.users.mfaRequired(user)) return signedIn(reply, req, bind, user);
        if (user.mfa.enrolled) return html(reply, 200, otpPage(await again({ ...p, step: 'mfa', userId: user.id })));
        const { secret, uri } = await vigil.users.beginMfaEnrolment(user.id);
        return html(reply, 200, enrolPage(await again({ ...p, step: 'enrol', userId: user.id, enrol: { secret, uri } }), secret, uri));
      }
      case 'mfa':
      case 'enrol': {
        const userId = p.userId ?? '';
        if (audit !== undefined) [audit.subtype, audit.user] = [p.step === 'mfa' ? 'mfa' : 'mfa-enrol', userId];
        const otp = form['otp'] ?? '';
        let user: User | undefined;
        let locked = false;
        if (p.step === 'mfa') {
          const result = await vigil.users.verifyOtp(userId, otp, request.ip);
          if (result.ok) user = result.user;
          else locked = result.reason === 'locked';
        } else if (await vigil.users.confirmMfa(userId, otp, request.ip)) {
          user = await vigil.users.get(userId);
        }
        if (user === undefined || user.disabled) {
          failed(request, reply, p.step === 'mfa' ? 'mfa-failed' : 'mfa-enrol-failed', locked);
          const failures = (p.otpFailures ?? 0) + 1;
          if (failures >= MAX_OTP_FAILURES) return html(reply, 401, loginPage(req.clientName, await again({ request: req, step: 'login', binding: p.binding }), SIGN_IN_FAILED));
          const csrf = await again({ ...p, otpFailures: failures });
          return html(reply, 401, p.step === 'mfa' || p.enrol === undefined ? otpPage(csrf, OTP_FAILED) : enrolPage(csrf, p.enrol.secret, p.enrol.uri, OTP_FAILED));
        }
        return signedIn(reply, req, bind, user);
      }
      case 'consent': {
        if (audit !== undefined) [audit.subtype, audit.user] = ['consent', p.userId ?? ''];
        const session = await vigil.sessions.check(p.sessionHandle ?? '');
        const user = session === undefined ? undefined : await vigil.users.get(session.userId);
        if (session === undefined || user === undefined || user.disabled || session.userId !== p.userId) {
          failed(request, reply, 'consent', false);
          return html(reply, 401, loginPage(req.clientName, await again({ request: req, step: 'login', binding: p.binding }), 'Your session ended. Sign in again.'));
        }
        const granted = form['decision'] === 'allow' ? checkedScopes(req.scopes, scopes) : [];
        const resource = granted.filter((s) => s.includes('/') && s !== 'launch/patient');
        if (resource.length === 0) {
          if (audit !== undefined) audit.subtype = 'consent-denied';
          return reply.code(303).header('location', clientRedirect(req.redirectUri, { error: 'access_denied', error_description: 'The user did not allow access', state: req.state, iss: config.publicUrl })).send();
        }
        const code = await vigil.oauth.codes.issue({
          clientId: req.clientId,
          userId: user.id,
          sessionHandle: session.handle,
          scope: granted.join(' '),
          roles: [...user.roles],
          ...(user.fhirUser === undefined ? {} : { fhirUser: user.fhirUser }),
          ...(p.patient === undefined || !granted.includes('launch/patient') ? {} : { patient: p.patient }),
          redirectUri: req.redirectUri,
          challenge: req.challenge,
        });
        return reply.code(303).header('location', clientRedirect(req.redirectUri, { code, state: req.state, iss: config.publicUrl })).send();
      }
    }
  };

  const pageHeaders = async (_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    // The global headers forbid forms; these pages need theirs (and only theirs).
    const csp = reply.getHeader('x-authorize-csp');
    if (typeof csp === 'string') reply.header('content-security-policy', csp).removeHeader('x-authorize-csp');
    return payload;
  };

  app.get('/oauth2/authorize', { onSend: pageHeaders }, async (request, reply) => {
    const query = request.url.indexOf('?');
    return start(request, reply, query < 0 ? [] : [...new URLSearchParams(request.url.slice(query + 1))]);
  });

  app.post('/oauth2/authorize', { onSend: pageHeaders }, async (request, reply) => {
    const wait = limiter.take(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw new VigilError('ERR_RATE_LIMITED');
    }
    if (!(request.body instanceof FormBody)) return html(reply, 400, errorPage('The form could not be read.'));
    const pairs = request.body.pairs();
    const form: Record<string, string> = Object.create(null) as Record<string, string>;
    const scopes: string[] = [];
    for (const [k, v] of pairs) {
      if (k === 'scope') scopes.push(v);
      else if (k in form) return html(reply, 400, errorPage('The form could not be read.'));
      else form[k] = v;
    }
    // A POST without a CSRF token is an authorization request sent by POST (SMART `authorize-post`).
    if (form['csrf'] === undefined && form['response_type'] !== undefined) return start(request, reply, pairs);
    const bind = readCookie(request.headers.cookie, bindingName);
    const p = await pending.take(form['csrf'], bind);
    if (p === undefined || bind === undefined) {
      request.auditReason = 'ERR_BAD_REQUEST';
      return html(reply, 403, errorPage('This page expired or was not opened in this browser. Return to the application and start again.'));
    }
    return step(request, reply, p, bind, form, scopes);
  });
}
