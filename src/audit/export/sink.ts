import type { ExportMark, ExportRecord } from './record.js';

/** Where exported records go (a JSON lines file, a syslog receiver). */
export interface ExportSink {
  /** The target as describeTarget() writes it. */
  readonly target: string;
  /**
   * Opens the target. Returns the last entry the target is known to hold (a JSON lines file can
   * tell; a syslog receiver cannot), so the export resumes after it.
   */
  open(): Promise<ExportMark | undefined>;
  /** Writes records in order; resolves once the target acknowledged them (fsync, socket write callback). */
  write(records: readonly ExportRecord[]): Promise<void>;
  /**
   * Confirms that everything written arrived, where the target can tell only by closing (a syslog
   * receiver that reads to the end and closes its side); throws SinkUnavailableError otherwise.
   * Called before a run that is not interrupted ends. The sink may be written to again afterwards.
   */
  confirm?(): Promise<void>;
  /**
   * Ends the export. Returns the sequence number below which delivery is certain, when that is
   * less than the last acknowledged one (a receiver that did not confirm the close).
   */
  close(): Promise<number | undefined>;
}

/**
 * A transient failure of the target (connection refused, reset, timed out). The export rewinds to
 * `resumeAfter` (entries after it may not have arrived), waits and tries again.
 */
export class SinkUnavailableError extends Error {
  readonly resumeAfter: number | undefined;

  constructor(message: string, resumeAfter: number | undefined, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SinkUnavailableError';
    this.resumeAfter = resumeAfter;
  }
}
