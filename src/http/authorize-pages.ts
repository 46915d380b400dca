import { createHash } from 'node:crypto';

/**
 * The HTML of the sign-in, MFA and consent pages: one self-contained document each, no scripts,
 * no external assets, one inline style allowed by its hash, and every value escaped.
 */

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#111}' +
  'label{display:block;margin:.75rem 0}input[type=text],input[type=password]{width:100%;padding:.4rem;font:inherit}' +
  'button{padding:.5rem 1rem;font:inherit;margin-right:.5rem}.err{color:#a00}code{word-break:break-all}';
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The Content-Security-Policy of a page: nothing may load, only the inline style runs, and forms
 * post only here or (since browsers apply `form-action` to redirects) to the client's origin.
 */
export function pageCsp(redirectOrigin?: string): string {
  const targets = redirectOrigin === undefined ? "'self'" : `'self' ${redirectOrigin}`;
  return `default-src 'none'; style-src ${STYLE_HASH}; form-action ${targets}; frame-ancestors 'none'; base-uri 'none'`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function message(text: string | undefined): string {
  return text === undefined ? '' : `<p class="err" role="alert">${escapeHtml(text)}</p>`;
}

function form(csrf: string, fields: string, buttons: string): string {
  return `<form method="post" action="/oauth2/authorize" autocomplete="off"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">${fields}${buttons}</form>`;
}

/** The sign-in form (fields `username` and `password`). */
export function loginPage(clientName: string, csrf: string, error?: string): string {
  const fields =
    '<label>User name <input type="text" name="username" autocomplete="username" required autofocus></label>' +
    '<label>Password <input type="password" name="password" autocomplete="current-password" required></label>';
  return page('Sign in', `<p>${escapeHtml(clientName)} asks you to sign in to Vigil.</p>${message(error)}${form(csrf, fields, '<button type="submit">Sign in</button>')}`);
}

/** The one-time password form (field `otp`). */
export function otpPage(csrf: string, error?: string): string {
  const fields = '<label>Code from your authenticator app <input type="text" name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6,8}" required autofocus></label>';
  return page('Second factor', `${message(error)}${form(csrf, fields, '<button type="submit">Verify</button>')}`);
}

/** The MFA enrolment form: the secret to add to an authenticator app, then its first code (`otp`). */
export function enrolPage(csrf: string, secret: string, uri: string, error?: string): string {
  const info =
    '<p>Your role requires a second factor. Add this key to an authenticator app (TOTP), then enter the code it shows.</p>' +
    `<p>Key: <code>${escapeHtml(secret)}</code></p><p>Or this address: <code>${escapeHtml(uri)}</code></p>`;
  const fields = '<label>Code <input type="text" name="otp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6,8}" required></label>';
  return page('Set up a second factor', `${info}${message(error)}${form(csrf, fields, '<button type="submit">Confirm</button>')}`);
}

/** The consent form: each scope a checkbox named `scope`, checked; the user may uncheck some. */
export function consentPage(clientName: string, csrf: string, scopes: readonly string[], patient?: string): string {
  const boxes = scopes.map((s) => `<label><input type="checkbox" name="scope" value="${escapeHtml(s)}" checked> <code>${escapeHtml(s)}</code></label>`).join('');
  const context = patient === undefined ? '' : '<p>The application will see the patient record you are linked to.</p>';
  const buttons = '<button type="submit" name="decision" value="allow">Allow</button><button type="submit" name="decision" value="deny">Deny</button>';
  return page('Allow access?', `<p>${escapeHtml(clientName)} asks for:</p>${context}${form(csrf, `<fieldset>${boxes}</fieldset>`, buttons)}`);
}

/** A page for a request that cannot be sent back to the client (unknown client or redirect URI). */
export function errorPage(text: string): string {
  return page('Sign-in request refused', `${message(text)}<p>Return to the application and try again.</p>`);
}
