import { randomUUID } from 'node:crypto';
import type { SealedRecords } from '../auth/index.js';
import type { Finding, Severity } from './types.js';

export type AlertStatus = 'open' | 'acknowledged' | 'confirmed' | 'dismissed';

/** A stored alert, as `GET /admin/alerts` shows it. */
export interface Alert {
  readonly id: string;
  readonly rule: string;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly principal: string;
  readonly patient?: string;
  readonly evidence: readonly number[];
  readonly explanation: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** What the engine did: `alert`, `lock`, `read-only`. */
  readonly response: string;
  readonly triage?: { readonly by: string; readonly at: string; readonly reason?: string };
}

const KIND = 'alert';
/** Evidence kept per alert; a long burst keeps its first entries and a count. */
const MAX_EVIDENCE = 500;

/**
 * Alerts, sealed in the store like the other auth records (they name principals and patients).
 * A finding that repeats an open alert's rule, principal and patient within `mergeMs` adds its
 * evidence to that alert instead of raising another.
 */
export class AlertStore {
  readonly #records: SealedRecords;
  readonly #now: () => Date;
  readonly #mergeMs: number;
  /** Open alerts by merge key, so repeats find them without listing every alert. */
  readonly #open = new Map<string, { id: string; at: number }>();

  constructor(records: SealedRecords, now: () => Date = () => new Date(), mergeMs = 10 * 60_000) {
    this.#records = records;
    this.#now = now;
    this.#mergeMs = mergeMs;
  }

  /** Stores a finding; returns the alert and whether it is new. */
  async raise(f: Finding, severity: Severity, response: string): Promise<{ alert: Alert; created: boolean }> {
    const key = `${f.rule}\u0000${f.principal}\u0000${f.patient ?? ''}`;
    const now = this.#now();
    const known = this.#open.get(key);
    if (known !== undefined && now.getTime() - known.at < this.#mergeMs) {
      const existing = await this.get(known.id);
      if (existing !== undefined && existing.status === 'open') {
        const evidence = [...new Set([...existing.evidence, ...f.evidence])].slice(0, MAX_EVIDENCE);
        const merged: Alert = { ...existing, evidence, updatedAt: now.toISOString() };
        await this.#records.put(KIND, merged.id, merged);
        return { alert: merged, created: false };
      }
    }
    // Ids sort by time, so a listing is in the order the alerts were raised.
    const id = `${now.getTime().toString(36).padStart(9, '0')}-${randomUUID()}`;
    const alert: Alert = {
      id,
      rule: f.rule,
      severity,
      status: 'open',
      principal: f.principal,
      ...(f.patient === undefined ? {} : { patient: f.patient }),
      evidence: [...new Set(f.evidence)].slice(0, MAX_EVIDENCE),
      explanation: f.explanation,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      response,
    };
    await this.#records.put(KIND, id, alert);
    this.#open.set(key, { id, at: now.getTime() });
    if (this.#open.size > 10_000) this.#open.clear();
    return { alert, created: true };
  }

  async get(id: string): Promise<Alert | undefined> {
    return (await this.#records.get<Alert>(KIND, id))?.value;
  }

  /** Alerts, oldest first, optionally by status and raised at or after `since`. */
  async list(filter: { status?: AlertStatus; since?: Date } = {}): Promise<Alert[]> {
    const all = (await this.#records.list<Alert>(KIND)).map((r) => r.value);
    return all
      .filter((a) => (filter.status === undefined || a.status === filter.status) && (filter.since === undefined || Date.parse(a.createdAt) >= filter.since.getTime()))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async triage(id: string, status: AlertStatus, by: string, reason?: string): Promise<Alert | undefined> {
    const a = await this.get(id);
    if (a === undefined) return undefined;
    const now = this.#now().toISOString();
    const updated: Alert = { ...a, status, updatedAt: now, triage: { by, at: now, ...(reason === undefined ? {} : { reason }) } };
    await this.#records.put(KIND, id, updated);
    return updated;
  }
}
