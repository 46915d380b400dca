/** Date arithmetic on epoch milliseconds, in UTC so that output never depends on the machine's zone. */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const YEAR = 365.2425 * DAY;

/** FHIR dateTime/instant to the second: `2019-03-04T10:15:00Z`. */
export function dateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** FHIR date: `2019-03-04`. */
export function date(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole years between two instants (an age). */
export function yearsBetween(from: number, to: number): number {
  return (to - from) / YEAR;
}

/** `ms` moved to the start of its UTC day. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}
