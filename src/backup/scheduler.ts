import type { Vigil } from '../runtime/index.js';
import { createBackup, type CreateResult } from './create.js';

/** The last scheduled backup, as `GET /admin/backups` shows it. */
export interface BackupRun {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ok: boolean;
  readonly id: string | null;
  readonly kind: string | null;
  readonly versions: number;
  readonly seconds: number;
  /** The error code and message of a failed backup (never data). */
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface BackupStatus {
  readonly enabled: boolean;
  readonly dir: string | null;
  readonly intervalMinutes: number;
  readonly running: boolean;
  readonly last: BackupRun | null;
  readonly lastSuccessAt: string | null;
  readonly nextAt: string | null;
}

export interface SchedulerOptions {
  readonly dir: string | undefined;
  readonly intervalMinutes: number;
  /** Told of every failed backup (the alert hook: src/detect wires its alert here). */
  readonly onBackupFailed?: (error: unknown, run: BackupRun) => void;
  readonly onBackupDone?: (result: CreateResult) => void;
  readonly now?: () => Date;
}

/**
 * Scheduled backups inside the server: every `intervalMinutes`, an incremental backup into `dir`
 * (a full one when the set has none to continue), one at a time. Each run, success or failure, is
 * a security audit entry (`backup-create`, outcome 0 or 8), so the trail and detection see it.
 */
export class BackupScheduler {
  readonly #vigil: Vigil;
  readonly #o: SchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<BackupRun> | undefined;
  #last: BackupRun | null = null;
  #lastSuccessAt: string | null = null;
  #nextAt: Date | null = null;

  constructor(vigil: Vigil, options: SchedulerOptions) {
    this.#vigil = vigil;
    this.#o = options;
  }

  get enabled(): boolean {
    return this.#o.dir !== undefined && this.#o.intervalMinutes > 0;
  }

  start(): void {
    if (!this.enabled || this.#timer !== undefined) return;
    const ms = this.#o.intervalMinutes * 60_000;
    this.#nextAt = new Date(this.#now().getTime() + ms);
    this.#timer = setInterval(() => {
      this.#nextAt = new Date(this.#now().getTime() + ms);
      void this.runNow();
    }, ms);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a backup in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#nextAt = null;
    await this.#running;
  }

  /** Runs one backup now (or joins the one running). */
  runNow(): Promise<BackupRun> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  status(): BackupStatus {
    return {
      enabled: this.enabled,
      dir: this.#o.dir ?? null,
      intervalMinutes: this.#o.intervalMinutes,
      running: this.#running !== undefined,
      last: this.#last,
      lastSuccessAt: this.#lastSuccessAt,
      nextAt: this.#nextAt?.toISOString() ?? null,
    };
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  async #run(): Promise<BackupRun> {
    const startedAt = this.#now().toISOString();
    let run: BackupRun;
    try {
      if (this.#o.dir === undefined) throw new Error('no backup directory is configured');
      const r = await createBackup(this.#vigil, { to: this.#o.dir, kind: 'auto', ...(this.#o.now === undefined ? {} : { now: this.#o.now }) });
      run = { startedAt, finishedAt: this.#now().toISOString(), ok: true, id: r.id, kind: r.kind, versions: r.versions, seconds: r.seconds, error: null };
      this.#lastSuccessAt = run.finishedAt;
      this.#o.onBackupDone?.(r);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      run = { startedAt, finishedAt: this.#now().toISOString(), ok: false, id: null, kind: null, versions: 0, seconds: 0, error: { code: typeof code === 'string' ? code : 'ERR_INTERNAL', message: err instanceof Error ? err.message : 'backup failed' } };
      this.#o.onBackupFailed?.(err, run);
    }
    this.#last = run;
    await this.#vigil.repository.trail
      .record({ type: 'security', subtype: 'backup-create', action: 'E', outcome: run.ok ? '0' : '8', client: 'vigil-server', entities: run.id === null ? [] : [`backup/${run.id}`], patients: [], ...(run.error === null ? {} : { reason: run.error.code }) })
      .catch(() => undefined);
    return run;
  }
}
