import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { sharedGate } from './import-workers.js';

/** Resolves after `ms`, on the event loop a blocking wait would stop. */
const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the import workers\' write gate', () => {
  it('lets one holder in at a time, and a waiting thread goes on with its other work', async () => {
    const buffer = new SharedArrayBuffer(4);
    const a = sharedGate(buffer);
    const b = sharedGate(buffer);
    await a.acquire();
    const order: string[] = [];
    const waiting = b.acquire().then(() => order.push('b holds'));
    // The wait does not block this thread: its timers still run.
    await tick(20);
    order.push('timer ran');
    assert.deepEqual(order, ['timer ran']);
    a.release();
    await waiting;
    assert.deepEqual(order, ['timer ran', 'b holds']);
    // Held by b now: a waits in turn.
    let aHolds = false;
    const again = a.acquire().then(() => (aHolds = true));
    await tick(20);
    assert.equal(aHolds, false);
    b.release();
    await again;
    assert.equal(aHolds, true);
    a.release();
  });

  it('keeps a worker alive while it waits, until the lock is released', async () => {
    const buffer = new SharedArrayBuffer(4);
    const main = sharedGate(buffer);
    await main.acquire();
    const module = new URL('./import-workers.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then(async ({ sharedGate }) => {
        await sharedGate(workerData.buffer).acquire();
        parentPort.postMessage('acquired');
      });`;
    const worker = new Worker(code, { eval: true, workerData: { module, buffer } });
    const outcome = new Promise<string>((resolve) => {
      worker.on('message', (m: string) => resolve(m));
      worker.on('exit', (c) => resolve(`exited with ${c} before acquiring`));
    });
    // Long past one wait's timeout: the worker must still be waiting, not gone.
    const early = await Promise.race([outcome, tick(300).then(() => 'still waiting')]);
    assert.equal(early, 'still waiting');
    main.release();
    assert.equal(await outcome, 'acquired');
    await worker.terminate();
  });
});
