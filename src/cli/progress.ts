import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  /** Changes the total (for work whose size is learnt on the way). */
  setTotal(total: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr (stdout stays clean for --json); on a non-terminal it prints a line every 2 s.
 * With `unit`, it also shows the throughput, e.g. `1234 resources/s`.
 */
export function progressBar(label: string, total: number, unit?: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total}${unit === undefined ? '' : ` | {rate} ${unit}/s`} | {eta_formatted} left`,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  const rate = (done: number): { rate: number } => ({ rate: Math.round(done / Math.max((performance.now() - started) / 1000, 1e-3)) });
  bar.start(total, 0, rate(0));
  return {
    update: (done) => bar.update(done, rate(done)),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}

/**
 * Runs work that reports `(done, total)` as it goes, with a progress bar whose total follows the
 * reports; the bar stops when the work ends, however it ends (a returned promise included).
 *
 * @example
 * const result = await withProgress('restore', 'resources', (onProgress) => restoreBackup({ ...options, onProgress }));
 */
export function withProgress<T>(label: string, unit: string, run: (onProgress: (done: number, total: number) => void) => T): T {
  const bar = progressBar(label, 1, unit);
  const onProgress = (done: number, total: number): void => {
    bar.setTotal(total);
    bar.update(done);
  };
  let result: T;
  try {
    result = run(onProgress);
  } catch (err) {
    bar.stop();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => bar.stop()) as T;
  bar.stop();
  return result;
}
