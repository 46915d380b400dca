type Json = Record<string, unknown>;

/** The objects holding a string `reference`, depth first (found without awaiting anything). */
export function referenceHolders(value: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(value)) {
    for (const item of value) referenceHolders(item, out);
  } else if (typeof value === 'object' && value !== null) {
    const obj = value as Json;
    for (const key in obj) {
      const child = obj[key];
      if (key === 'reference' && typeof child === 'string') out.push(obj);
      else if (typeof child === 'object' && child !== null) referenceHolders(child, out);
    }
  }
  return out;
}

/** The type a conditional reference (`Type?query`) searches; undefined for any other reference. */
export function conditionalType(ref: string): string | undefined {
  const q = ref.indexOf('?');
  return q > 0 && /^[A-Z][A-Za-z]+$/.test(ref.slice(0, q)) ? ref.slice(0, q) : undefined;
}

/** True when the value holds a conditional reference, which a write resolves by a search before it takes the write lock. */
export function holdsConditionalReference(value: unknown): boolean {
  return referenceHolders(value).some((holder) => conditionalType(holder['reference'] as string) !== undefined);
}
