import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('spaces requests at the asked rate, concurrent callers included', async () => {
    let t = 0;
    const waits: number[] = [];
    const limiter = new RateLimiter({ perSecond: 4, now: () => t, sleep: async (ms) => void waits.push(ms) });
    await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    assert.deepEqual(waits, [250, 500]);
    t = 10_000;
    await limiter.take();
    assert.equal(waits.length, 2, 'after a quiet spell the next request goes at once');
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new RateLimiter({ perSecond: 0 }), /positive/);
    assert.throws(() => new RateLimiter({ perSecond: Number.NaN }), /positive/);
  });
});
