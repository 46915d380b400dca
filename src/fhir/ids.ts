import { randomUUID } from 'node:crypto';

/** The FHIR id grammar: 1 to 64 of A-Z a-z 0-9 - . */
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const VERSION_ID = /^[1-9][0-9]{0,9}$/;

export function isValidId(id: string): boolean {
  return ID.test(id);
}

/** A version id is a positive integer; returns undefined for anything else. */
export function parseVersionId(raw: string): number | undefined {
  return VERSION_ID.test(raw) ? Number(raw) : undefined;
}

/** Server-assigned ids are random UUIDs: they reveal neither order nor count. */
export function newId(): string {
  return randomUUID();
}
