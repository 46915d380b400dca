/**
 * Masks protected health information in response excerpts before they go into a finding. A scan
 * report is shared with people who have no right to the records it stumbled on, so an excerpt
 * keeps the shape of what leaked (which fields, how many) and loses the values.
 */

export const MASK = '***';

/** FHIR elements (and common non-FHIR field names) whose whole value identifies a person. */
const PHI_KEYS = new Set([
  'name', 'given', 'family', 'prefix', 'suffix', 'birthDate', 'deceasedDateTime', 'identifier', 'telecom', 'address',
  'line', 'city', 'district', 'postalCode', 'photo', 'contact', 'div', 'email', 'phone', 'mobile', 'ssn', 'dob',
  'mrn', 'firstName', 'lastName', 'dateOfBirth', 'birth_date', 'first_name', 'last_name',
]);

/** In JSON that does not parse (a cut-off body), string values of these keys are masked by pattern. */
const LOOSE_KEYS = [...PHI_KEYS, 'value', 'text', 'display'];

const TEXT_PATTERNS: readonly RegExp[] = [
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, // e-mail addresses
  /\b\d{3}-\d{2}-\d{4}\b/g, // US social security numbers
  /\b\d{4}-\d{2}-\d{2}\b/g, // dates (birth dates among them)
  /(?:\+\d{1,3}[\s.-]?)?\(?\d{2,4}\)?[\s.-]\d{3,4}[\s.-]\d{3,4}\b/g, // phone numbers
  /\d{5,}/g, // long digit runs: record numbers, member ids, phone numbers without separators
];

/** Masks patterns that look like identifiers, contact details or dates in free text. */
export function maskText(text: string): string {
  let out = text;
  for (const p of TEXT_PATTERNS) out = out.replace(p, MASK);
  return out;
}

function maskValue(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && PHI_KEYS.has(key)) return MASK;
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map((v) => maskValue(v, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, k);
    return out;
  }
  return value;
}

/** Masks a JSON document: PHI fields lose their whole value, other strings their identifying patterns. */
export function maskJson(value: unknown): unknown {
  return maskValue(value, undefined);
}

function maskLooseJson(body: string): string {
  const keys = LOOSE_KEYS.map((k) => k.replace(/[^A-Za-z_]/g, '')).join('|');
  const open = '"(?:[^"\\\\]|\\\\.)*';
  // Whole strings inside the array, then perhaps one cut off at the end of the body.
  const stringArray = new RegExp(`("(?:${keys})"\\s*:\\s*)\\[(?:\\s*${open}"\\s*,?)*(?:\\s*${open})?\\]?`, 'g');
  const stringValue = new RegExp(`("(?:${keys})"\\s*:\\s*)${open}"?`, 'g');
  return maskText(body.replace(stringArray, `$1"${MASK}"`).replace(stringValue, `$1"${MASK}"`));
}

/**
 * Masks a response body of any kind and cuts it to `max` characters (the cut is marked).
 * @example maskBody('{"name":[{"family":"Doe"}],"id":"p1"}') // '{"name":"***","id":"p1"}'
 */
export function maskBody(body: string, max = 600): string {
  let masked: string;
  try {
    masked = JSON.stringify(maskJson(JSON.parse(body)));
  } catch {
    masked = body.trimStart().startsWith('{') || body.trimStart().startsWith('[') ? maskLooseJson(body) : maskText(body);
  }
  return masked.length > max ? `${masked.slice(0, max)} …(${masked.length - max} more characters)` : masked;
}
