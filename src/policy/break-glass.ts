import { randomUUID } from 'node:crypto';
import type { SealedRecords } from '../auth/index.js';

/** One break-the-glass grant: who opened which patient's record, why, until when; and its review. */
export interface BreakGlassGrant {
  readonly id: string;
  readonly userId: string;
  readonly patient: string;
  /** The reason the user gave (free text, kept sealed; never written to logs or audit entries). */
  readonly reason: string;
  readonly startedAt: string;
  readonly expiresAt: string;
  readonly endedAt?: string;
  readonly review?: { readonly by: string; readonly at: string; readonly outcome: 'justified' | 'unjustified'; readonly note?: string };
}

const GRANT = 'btg';
/** Per user: the ids of their grants that may still be active, for the access check. */
const ACTIVE = 'btg-user';

/**
 * Break-the-glass: a clinician opens a record they have no relationship with, giving a reason.
 * The grant lasts a fixed time, is audited on its own, and waits for a privacy officer's review.
 */
export class BreakGlass {
  readonly #records: SealedRecords;
  readonly #seconds: number;
  readonly #now: () => Date;

  constructor(records: SealedRecords, seconds: number, now: () => Date = () => new Date()) {
    this.#records = records;
    this.#seconds = seconds;
    this.#now = now;
  }

  async start(userId: string, patient: string, reason: string): Promise<BreakGlassGrant> {
    const now = this.#now();
    const grant: BreakGlassGrant = {
      id: randomUUID(),
      userId,
      patient,
      reason,
      startedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#seconds * 1000).toISOString(),
    };
    await this.#records.put(GRANT, grant.id, grant);
    const key = this.#records.keyFor(ACTIVE, userId);
    const ids = (await this.#records.get<string[]>(ACTIVE, key))?.value ?? [];
    await this.#records.put(ACTIVE, key, [...ids, grant.id], new Date(Date.parse(grant.expiresAt)));
    return grant;
  }

  /** The patients a user currently holds an unexpired, unended grant for. */
  async activePatients(userId: string): Promise<ReadonlySet<string>> {
    const out = new Set<string>();
    const ids = (await this.#records.get<string[]>(ACTIVE, this.#records.keyFor(ACTIVE, userId)))?.value ?? [];
    for (const id of ids) {
      const g = (await this.#records.get<BreakGlassGrant>(GRANT, id))?.value;
      if (g !== undefined && g.userId === userId && g.endedAt === undefined && Date.parse(g.expiresAt) > this.#now().getTime()) out.add(g.patient);
    }
    return out;
  }

  /** Ends a user's active grants for a patient; returns the grants ended. */
  async end(userId: string, patient: string): Promise<BreakGlassGrant[]> {
    const ended: BreakGlassGrant[] = [];
    const ids = (await this.#records.get<string[]>(ACTIVE, this.#records.keyFor(ACTIVE, userId)))?.value ?? [];
    for (const id of ids) {
      const g = (await this.#records.get<BreakGlassGrant>(GRANT, id))?.value;
      if (g === undefined || g.userId !== userId || g.patient !== patient || g.endedAt !== undefined || Date.parse(g.expiresAt) <= this.#now().getTime()) continue;
      const done = { ...g, endedAt: this.#now().toISOString() };
      await this.#records.put(GRANT, id, done);
      ended.push(done);
    }
    return ended;
  }

  /** Every grant, newest first (for review). */
  async list(): Promise<BreakGlassGrant[]> {
    return (await this.#records.list<BreakGlassGrant>(GRANT)).map((r) => r.value).sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  }

  async review(id: string, by: string, outcome: 'justified' | 'unjustified', note?: string): Promise<BreakGlassGrant | undefined> {
    const g = (await this.#records.get<BreakGlassGrant>(GRANT, id))?.value;
    if (g === undefined) return undefined;
    const reviewed: BreakGlassGrant = { ...g, review: { by, at: this.#now().toISOString(), outcome, ...(note === undefined ? {} : { note }) } };
    await this.#records.put(GRANT, id, reviewed);
    return reviewed;
  }
}
