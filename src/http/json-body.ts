import { VigilError } from '../errors.js';

/** Keys that reach for the prototype chain in JavaScript consumers; FHIR has no such elements. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses a JSON request body and refuses hostile shapes: nesting deeper than `maxDepth`, and
 * `__proto__` / `constructor` / `prototype` keys. The error never quotes the body.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VigilError('ERR_BAD_REQUEST', 'The request body is not valid JSON');
  }
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 1 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: unknown; d: number };
    if (typeof v !== 'object' || v === null) continue;
    if (d > maxDepth) throw new VigilError('ERR_BAD_REQUEST', `The request body nests deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push({ v: item, d: d + 1 });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) throw new VigilError('ERR_BAD_REQUEST', 'The request body contains a forbidden key');
      const child = (v as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push({ v: child, d: d + 1 });
    }
  }
  return value;
}

/** Parses an `application/x-www-form-urlencoded` body; a repeated field is refused (RFC 6749 section 3.1). */
export function parseFormBody(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in out) throw new VigilError('ERR_BAD_REQUEST', 'A form field is repeated');
    out[key] = value;
  }
  return out;
}

/**
 * A form-urlencoded body, kept as text until its user decides how to read it: OAuth endpoints
 * refuse repeated fields, while `POST _search` repeats a parameter to AND it.
 */
export class FormBody {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  pairs(): [string, string][] {
    return [...new URLSearchParams(this.text)];
  }

  unique(): Record<string, string> {
    return parseFormBody(this.text);
  }
}
