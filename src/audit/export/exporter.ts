import { setTimeout as sleep } from 'node:timers/promises';
import { VigilError } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { lastAuditSeq } from './last-seq.js';
import { exportRecord } from './record.js';
import { SinkUnavailableError, type ExportSink } from './sink.js';
import { readExportState, writeExportState } from './state.js';

export interface ExportOptions {
  /** Only `readAuditBySeq` is used: entries are read in sequence order, across tenants. */
  readonly store: Pick<Store, 'readAuditBySeq'>;
  readonly sink: ExportSink;
  /** The state file (see defaultStatePath); written after every acknowledged batch. */
  readonly statePath: string;
  /** Keep polling for new entries until `signal` aborts; else export what exists at the start and return. */
  readonly follow?: boolean;
  readonly pollMs?: number;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** Failed attempts in a row before giving up (default: 6, or never with `follow`). */
  readonly maxAttempts?: number;
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  /** The catch-up about to start: entries after `fromSeq` up to `untilSeq` (the newest at the start). */
  readonly onStart?: (span: { fromSeq: number; untilSeq: number }) => void;
  readonly onProgress?: (p: { exported: number; lastSeq: number }) => void;
  /** Everything that existed at the start is exported (with `follow`, the export now waits for new entries). */
  readonly onCaughtUp?: () => void;
  readonly onRetry?: (info: { message: string; attempt: number; delayMs: number; resumeAfter: number }) => void;
  readonly now?: () => Date;
  readonly random?: () => number;
}

export interface ExportResult {
  /** Entries written in this run (resent ones included). */
  readonly exported: number;
  /** Entries written again after a broken connection (at-least-once delivery to syslog). */
  readonly resent: number;
  /** The last sequence number the state file records as exported. */
  readonly lastSeq: number;
  readonly target: string;
}

/**
 * Exports audit entries in sequence order to a sink, resuming after the last one the state file
 * (or, for a JSON lines file, the file itself) records, and recording each batch only once the
 * sink acknowledged it. A sink that goes away is retried with exponential backoff, from the
 * point it says may not have arrived: nothing is skipped.
 *
 * @example
 * const result = await exportAudit({ store, sink: new JsonlSink('/var/log/vigil-audit.jsonl'), statePath });
 */
export async function exportAudit(options: ExportOptions): Promise<ExportResult> {
  const { store, sink, statePath } = options;
  const follow = options.follow === true;
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 500;
  const maxAttempts = options.maxAttempts ?? (follow ? Number.POSITIVE_INFINITY : 6);
  const backoff = options.backoffMs ?? { initial: 250, max: 30_000 };
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const signal = options.signal;

  let cursor = readExportState(statePath, sink.target)?.lastSeq ?? 0;
  let saved = cursor;
  const save = (): void => {
    if (cursor === saved) return;
    writeExportState(statePath, sink.target, cursor, now());
    saved = cursor;
  };

  // A JSON lines file may be ahead of the state (a crash after its fsync): it is the truth then.
  const held = await sink.open();
  let exported = 0;
  let resent = 0;
  let highWater = cursor;
  try {
    if (held !== undefined) {
      // Resuming from a file of another data directory would skip entries this one never sent.
      const [row] = await store.readAuditBySeq(held.seq, 1);
      if (row?.seq !== held.seq || exportRecord(row).leaf !== held.leaf) {
        throw new VigilError('ERR_CONFIG', `${sink.target} ends with an entry ${held.seq} that is not this audit trail's; refusing to resume from it`);
      }
      if (held.seq > cursor) {
        cursor = held.seq;
        save();
      }
    }
    highWater = cursor;
    const until = await lastAuditSeq(store, cursor);
    options.onStart?.({ fromSeq: cursor, untilSeq: until });
    let caughtUp = false;
    let attempts = 0;
    /** Runs a sink call; on a transient failure rewinds, waits with backoff and answers false. */
    const attempt = async (fn: () => Promise<void> | undefined): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (err) {
        if (!(err instanceof SinkUnavailableError)) throw err;
        if (err.resumeAfter !== undefined && err.resumeAfter < cursor) {
          cursor = err.resumeAfter;
          save();
        }
        attempts += 1;
        if (attempts >= maxAttempts) {
          throw new VigilError('ERR_INTERNAL', `${err.message}; gave up after ${attempts} attempts (the next run resumes after seq ${cursor})`, { cause: err });
        }
        const delayMs = Math.round(Math.min(backoff.max, backoff.initial * 2 ** (attempts - 1)) * (0.5 + random() / 2));
        options.onRetry?.({ message: err.message, attempt: attempts, delayMs, resumeAfter: cursor });
        await pause(delayMs, signal);
        return false;
      }
    };
    while (signal?.aborted !== true) {
      if (!caughtUp && cursor >= until) {
        caughtUp = true;
        options.onCaughtUp?.();
      }
      if (!follow && cursor >= until) {
        // Done, once the target confirms it has it all; else send the unconfirmed tail again.
        if (await attempt(() => sink.confirm?.())) break;
        continue;
      }
      const rows = (await store.readAuditBySeq(cursor + 1, batchSize)).filter((r) => follow || r.seq <= until);
      if (rows.length === 0) {
        if (!follow) {
          if (await attempt(() => sink.confirm?.())) break;
          continue;
        }
        await pause(pollMs, signal);
        continue;
      }
      const records = rows.map(exportRecord);
      if (!(await attempt(() => sink.write(records)))) continue;
      let fresh = false;
      for (const r of records) {
        if (r.seq <= highWater) {
          resent += 1;
        } else {
          highWater = r.seq;
          fresh = true;
        }
      }
      // Only new ground resets the count: a tail sent again and lost again is no progress.
      if (fresh) attempts = 0;
      exported += records.length;
      cursor = records[records.length - 1]?.seq ?? cursor;
      save();
      options.onProgress?.({ exported, lastSeq: cursor });
    }
  } finally {
    // A receiver that did not confirm the close may have lost the tail: the next run sends it again.
    const rewind = await sink.close();
    if (rewind !== undefined && rewind < cursor) {
      cursor = rewind;
      save();
    }
  }
  return { exported, resent, lastSeq: cursor, target: sink.target };
}

/** Waits, returning early (without throwing) when the signal aborts. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal === undefined ? {} : { signal });
  } catch {
    // Aborted: the loop sees the signal and stops.
  }
}
