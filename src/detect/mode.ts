import type { SealedRecords } from '../auth/index.js';

export type Mode = 'read-write' | 'read-only';

export interface ModeState {
  readonly mode: Mode;
  readonly reason: string;
  readonly since: string;
  /** Who set it: `user/<id>`, `client/<id>` or `detect/<rule>`. */
  readonly by?: string;
}

const KIND = 'server-mode';
const KEY = 'mode';
/** How long a read of the mode is reused: other processes see a change within this. */
const CACHE_MS = 1000;

/**
 * The server's mode. Read-only stops every write (503) while reads go on: the answer to a
 * ransomware-like burst, until a security admin lifts it. Kept in the store (sealed), so every
 * process of one data directory follows it, and a restart does not quietly lift it.
 */
export class ServerMode {
  readonly #records: SealedRecords;
  readonly #now: () => Date;
  #cached: { at: number; state: ModeState } | undefined;

  constructor(records: SealedRecords, now: () => Date = () => new Date()) {
    this.#records = records;
    this.#now = now;
  }

  async get(): Promise<ModeState> {
    const t = this.#now().getTime();
    if (this.#cached !== undefined && t - this.#cached.at < CACHE_MS) return this.#cached.state;
    const stored = (await this.#records.get<ModeState>(KIND, KEY))?.value;
    const state: ModeState = stored ?? { mode: 'read-write', reason: 'normal operation', since: new Date(0).toISOString() };
    this.#cached = { at: t, state };
    return state;
  }

  async set(mode: Mode, reason: string, by: string): Promise<ModeState> {
    const state: ModeState = { mode, reason, since: this.#now().toISOString(), by };
    await this.#records.put(KIND, KEY, state);
    this.#cached = { at: this.#now().getTime(), state };
    return state;
  }
}
