import { parentPort, workerData } from 'node:worker_threads';
import { openVigil } from '../runtime/index.js';
import { configFrom } from './common.js';
import { importFiles } from './import-load.js';
import { sharedGate, type WorkerJob, type WorkerMessage } from './import-workers.js';

/** One import worker thread: opens the store on its own connection and loads its share of files. */
async function run(job: WorkerJob): Promise<void> {
  const vigil = await openVigil(configFrom({ data: job.dataDir }), { writeGate: sharedGate(job.gate), bulk: true });
  try {
    const report = await importFiles(
      { repository: vigil.repository, fhirBaseUrl: vigil.config.fhirBaseUrl },
      { files: job.files, skipped: 0, missing: [], errors: [] },
      { onProgress: (state) => parentPort?.postMessage({ kind: 'progress', state } satisfies WorkerMessage) },
    );
    parentPort?.postMessage({ kind: 'done', report } satisfies WorkerMessage);
  } finally {
    await vigil.close();
  }
}

run(workerData as WorkerJob).catch((err: unknown) => {
  // Only the error's kind leaves the worker: a message could quote file content.
  parentPort?.postMessage({ kind: 'error', message: `import worker failed (${(err as { code?: string })?.code ?? (err as Error)?.name ?? 'error'})` } satisfies WorkerMessage);
});
