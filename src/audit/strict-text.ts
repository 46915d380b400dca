/**
 * Strict readers for the text formats of signed notes and checkpoints. Each accepts exactly one
 * spelling of a value, so a note cannot be re-encoded into a different byte string that still
 * parses to the same meaning (which would let two distinct notes carry one signature's claim).
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard base64 (RFC 4648 section 4) with padding, or returns undefined. Non-canonical
 * spellings (non-zero unused bits, missing padding, whitespace, the URL alphabet) are refused.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** Lone UTF-16 surrogates: a string holding one is not valid UTF-8 text. */
const LONE_SURROGATE = /\p{Cs}/u;

/** True for a string that encodes to UTF-8 without replacement characters. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** ASCII control characters other than newline, which signed notes must not contain. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

/** True when the text has no control character but newline and is valid UTF-8. */
export function isNoteSafe(text: string): boolean {
  return isWellFormed(text) && !CONTROL.test(text);
}

/** Key names and origins: non-empty, no Unicode space, no plus, no control or surrogate characters. */
const NAME = /^[^\s+\p{Cc}\p{Cs}]+$/u;

/** True for a valid signed-note key name (also what Vigil requires of a checkpoint origin). */
export function isKeyName(name: string): boolean {
  return NAME.test(name);
}
