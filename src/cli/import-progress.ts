import cliProgress from 'cli-progress';

/** How far an import has got. */
export interface ImportState {
  readonly files: number;
  readonly bytes: number;
  readonly resources: number;
  readonly failed: number;
}

export interface ImportProgress {
  update(state: ImportState): void;
  stop(): void;
}

/**
 * The import's bar on stderr (stdout stays clean for --json). It advances by bytes read, so one
 * big NDJSON file moves it too, and shows files, resources, failures and the rate. It names no
 * file: file names may name patients.
 */
export function importProgress(totalFiles: number, totalBytes: number, now: () => number = () => performance.now()): ImportProgress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'import [{bar}] {percentage}% | {files}/{totalFiles} files | {resources} resources | {rate} resources/s | {failed} failed | {eta_formatted} left',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = now();
  const payload = (s: ImportState): Record<string, number> => {
    const seconds = (now() - started) / 1000;
    return { files: s.files, totalFiles, resources: s.resources, failed: s.failed, rate: seconds > 0 ? Math.round(s.resources / seconds) : 0 };
  };
  // An empty total would make the bar divide by zero: one byte stands for "nothing to read".
  bar.start(Math.max(totalBytes, 1), 0, payload({ files: 0, bytes: 0, resources: 0, failed: 0 }));
  return {
    update: (s) => bar.update(Math.min(s.bytes, Math.max(totalBytes, 1)), payload(s)),
    stop: () => bar.stop(),
  };
}
