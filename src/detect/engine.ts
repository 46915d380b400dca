import type { Store } from '../store/index.js';
import { lastAuditSeq } from '../audit/export/index.js';
import type { AuditBody } from '../audit/trail.js';
import type { Alert, AlertStore } from './alerts.js';
import type { Entry, Facts, Finding, Rule, RuleSettings } from './types.js';

/** What the engine calls to answer an alert (responses.ts) and to tell people (notify.ts). */
export interface EngineHooks {
  respond(alert: Alert, settings: RuleSettings): Promise<void>;
  notify(alert: Alert): Promise<void>;
  /** Told of anything that went wrong inside the engine (logged; the engine goes on). */
  onError(err: unknown): void;
}

export interface EngineOptions {
  readonly store: Store;
  readonly tenant: string;
  readonly alerts: AlertStore;
  readonly facts: Facts;
  readonly rules: readonly Rule[];
  /** Per-rule overrides of the rules' defaults (from VIGIL_DETECT_RULES). */
  readonly settings?: Readonly<Record<string, Partial<RuleSettings>>>;
  readonly hooks: EngineHooks;
  /** How often the trail is read for new entries, in ms (default POLL_MS). */
  readonly pollMs?: number;
  readonly now?: () => Date;
}

const BATCH = 500;
/** The trail is read this often (one indexed query): a burst is answered within a few of these. */
const POLL_MS = 25;
/** Latencies kept for the percentiles (the newest). */
const LATENCY_SAMPLES = 10_000;

function principalOf(b: AuditBody): string | undefined {
  if (b.user !== undefined) return `user/${b.user}`;
  if (b.client !== undefined) return `client/${b.client}`;
  return undefined;
}

/**
 * The streaming detection engine: it reads audit entries as they are committed (in sequence
 * order, from the store, so it sees every process's entries), runs every enabled rule on each,
 * stores the alerts, answers them and sends notifications. Its own entries are not re-examined.
 */
export class DetectionEngine {
  readonly #o: EngineOptions;
  readonly #now: () => Date;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #latencies: number[] = [];

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** The settings of a rule: its defaults with the configured overrides on top. */
  settingsOf(rule: Rule): RuleSettings {
    return { ...rule.defaults, ...(this.#o.settings?.[rule.name] ?? {}) } as RuleSettings;
  }

  /** Starts after the newest entry already stored (history is not re-judged on start). */
  async start(): Promise<void> {
    this.#next = (await lastAuditSeq(this.#o.store)) + 1;
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.drain().finally(() => this.#schedule());
    }, this.#o.pollMs ?? POLL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }

  /** Examines every entry committed since the last look (one pass at a time). */
  drain(): Promise<void> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<void> {
    for (;;) {
      const rows = await this.#o.store.readAuditBySeq(this.#next, BATCH);
      if (rows.length === 0) return;
      for (const row of rows) {
        this.#next = row.seq + 1;
        if (row.tenant !== this.#o.tenant) continue;
        let body: AuditBody;
        try {
          body = JSON.parse(row.body) as AuditBody;
        } catch (err) {
          this.#o.hooks.onError(err);
          continue;
        }
        if (body.subtype.startsWith('detect-')) continue;
        await this.#examine({ seq: row.seq, body, principal: principalOf(body), at: Date.parse(body.recorded) });
      }
    }
  }

  async #examine(entry: Entry): Promise<void> {
    for (const rule of this.#o.rules) {
      const settings = this.settingsOf(rule);
      if (!settings.enabled) continue;
      let findings: Finding[];
      try {
        findings = await rule.observe(entry, { settings, facts: this.#o.facts });
      } catch (err) {
        this.#o.hooks.onError(err);
        continue;
      }
      for (const f of findings) await this.#raise(f, settings, entry);
    }
  }

  async #raise(f: Finding, settings: RuleSettings, entry: Entry): Promise<void> {
    const { alert, created } = await this.#o.alerts.raise(f, settings.severity, settings.response);
    if (!created) return;
    this.#latencies.push(this.#now().getTime() - entry.at);
    if (this.#latencies.length > LATENCY_SAMPLES) this.#latencies.shift();
    try {
      await this.#o.hooks.respond(alert, settings);
    } catch (err) {
      this.#o.hooks.onError(err);
    }
    void this.#o.hooks.notify(alert).catch((err: unknown) => this.#o.hooks.onError(err));
  }

  /** Alert latency (commit of the triggering entry to the stored alert), in ms. */
  latency(): { p50: number; p99: number; count: number } {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), count: sorted.length };
  }
}
