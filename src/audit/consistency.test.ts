import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consistencyProof, consistencyProofPlan, verifyConsistency } from './consistency.js';
import { merkleRoot } from './frontier.js';
import { referenceProof, referenceRoot } from './reference-tree.js';
import { CT_CONSISTENCY, CT_LEAVES_HEX, CT_ROOTS_HEX, hexList } from './reference-vectors.js';
import { memorySubtreeHasher, resolveProofAsync } from './subtree.js';
import { emptyRoot, leafHash } from './tree-hash.js';
import type { LeafRange } from './tree-math.js';

const FAILED = { code: 'ERR_INTEGRITY', message: 'The consistency proof does not verify' };
const entries = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`event ${i}`));
const someHash = Buffer.from('abacaba000000000000000000000000000000000000000000060061e00123456', 'hex');

function flip(proof: readonly Buffer[], at: number, bit: number): Buffer[] {
  return proof.map((h, i) => {
    if (i !== at) return h;
    const copy = Buffer.from(h);
    copy[0] = (copy[0] as number) ^ bit;
    return copy;
  });
}

/** Trillian-style probes: each one changes exactly one thing about a valid, non-empty proof. */
function tampered(m: number, n: number, r1: Buffer, r2: Buffer, proof: Buffer[]) {
  const probes: [string, number, number, Buffer, Buffer, Buffer[]][] = [
    ['size1 - 1', m - 1, n, r1, r2, proof],
    ['size1 + 1', m + 1, n, r1, r2, proof],
    ['size1 ^ 2', m ^ 2, n, r1, r2, proof],
    ['size2 * 2', m, n * 2, r1, r2, proof],
    ['size2 / 2', m, Math.floor(n / 2), r1, r2, proof],
    ['wrong root1', m, n, someHash, r2, proof],
    ['wrong root2', m, n, r1, someHash, proof],
    ['swapped roots', m, n, r2, r1, proof],
    ['empty proof', m, n, r1, r2, []],
    ['trailing empty hash', m, n, r1, r2, [...proof, Buffer.alloc(0)]],
    ['trailing root1', m, n, r1, r2, [...proof, r1]],
    ['trailing root2', m, n, r1, r2, [...proof, r2]],
    ['preceding empty hash', m, n, r1, r2, [Buffer.alloc(0), ...proof]],
    ['preceding root1', m, n, r1, r2, [r1, ...proof]],
    ['preceding root2', m, n, r1, r2, [r2, ...proof]],
    ['preceding proof[0]', m, n, r1, r2, [proof[0] as Buffer, ...proof]],
    ['truncated', m, n, r1, r2, proof.slice(0, -1)],
    ['first hash removed', m, n, r1, r2, proof.slice(1)],
  ];
  for (let i = 0; i < proof.length; i += 1) {
    probes.push([`proof[${i}] bit 4 flipped`, m, n, r1, r2, flip(proof, i, 16)]);
    probes.push([`proof[${i}] bit 0 flipped`, m, n, r1, r2, flip(proof, i, 1)]);
  }
  if (proof.length > 1) probes.push(['two hashes swapped', m, n, r1, r2, [proof[1] as Buffer, proof[0] as Buffer, ...proof.slice(2)]]);
  return probes;
}

describe('consistency proofs (RFC 9162 section 2.1.4)', () => {
  const ctLeaves = hexList(CT_LEAVES_HEX).map(leafHash);
  const ctRoot = (n: number): Buffer => Buffer.from(CT_ROOTS_HEX[n] as string, 'hex');

  it('generates and verifies the reference proofs of transparency-dev/merkle', () => {
    const hasher = memorySubtreeHasher(ctLeaves);
    for (const v of CT_CONSISTENCY) {
      assert.deepEqual(
        consistencyProof(v.size1, v.size2, hasher).map((h) => h.toString('hex')),
        v.proof,
        `${v.size1} -> ${v.size2}`,
      );
      verifyConsistency(v.size1, v.size2, ctRoot(v.size1), ctRoot(v.size2), hexList(v.proof));
    }
  });

  it('matches the RFC PROOF and verifies, for all 1 <= m <= n <= 40', () => {
    const data = entries(40);
    const hasher = memorySubtreeHasher(data.map(leafHash));
    const roots = Array.from({ length: 41 }, (_, n) => referenceRoot(data.slice(0, n)));
    for (let n = 1; n <= 40; n += 1) {
      for (let m = 1; m <= n; m += 1) {
        const proof = consistencyProof(m, n, hasher);
        assert.deepEqual(proof, referenceProof(m, data.slice(0, n)), `${m} -> ${n}`);
        verifyConsistency(m, n, roots[m] as Buffer, roots[n] as Buffer, proof);
      }
    }
  });

  it('rejects every tampered variant of every proof for all 1 <= m < n <= 40', () => {
    const leaves = entries(80).map(leafHash);
    const hasher = memorySubtreeHasher(leaves);
    const roots = Array.from({ length: 81 }, (_, n) => merkleRoot(leaves.slice(0, n)));
    let probes = 0;
    for (let n = 2; n <= 40; n += 1) {
      for (let m = 1; m < n; m += 1) {
        const proof = consistencyProof(m, n, hasher);
        for (const [what, m2, n2, r1, r2, p] of tampered(m, n, roots[m] as Buffer, roots[n] as Buffer, proof)) {
          assert.throws(() => verifyConsistency(m2, n2, r1, r2, p), FAILED, `${what}: ${m} -> ${n}`);
          probes += 1;
        }
      }
    }
    assert.ok(probes > 15_000);
  });

  it('detects a rewritten history: a proof between trees that differ in any one old leaf', () => {
    const leaves = entries(24).map(leafHash);
    const rewritten = (at: number): Buffer[] => leaves.map((h, i) => (i === at ? leafHash(Buffer.from('forged')) : h));
    for (let n = 2; n <= 24; n += 1) {
      for (let m = 1; m < n; m += 1) {
        for (let at = 0; at < m; at += 1) {
          const forged = rewritten(at);
          // The log shows an honest old root but proves from a tree with one old leaf changed.
          const proof = consistencyProof(m, n, memorySubtreeHasher(forged));
          assert.throws(() => verifyConsistency(m, n, merkleRoot(leaves.slice(0, m)), merkleRoot(forged.slice(0, n)), proof), FAILED);
        }
      }
    }
  });

  it('handles equal sizes and the empty tree as the RFC leaves them: no hashes needed', () => {
    const leaves = entries(5).map(leafHash);
    const r5 = merkleRoot(leaves);
    assert.deepEqual(consistencyProofPlan(5, 5), []);
    assert.deepEqual(consistencyProofPlan(0, 5), []);
    verifyConsistency(5, 5, r5, Buffer.from(r5), []);
    verifyConsistency(0, 5, emptyRoot(), r5, []);
    verifyConsistency(0, 0, emptyRoot(), emptyRoot(), []);
    const bad: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
      ['equal sizes, different roots', 5, 5, r5, someHash, []],
      ['equal sizes, a proof given', 5, 5, r5, r5, [r5]],
      ['from empty, not the empty root', 0, 5, someHash, r5, []],
      ['from empty, a proof given', 0, 5, emptyRoot(), r5, [r5]],
      ['shrinking tree', 5, 4, r5, r5, [r5]],
      ['negative size', -1, 4, r5, r5, [r5]],
      ['short root', 2, 5, r5.subarray(2), r5, [r5]],
      ['huge proof', 2, 5, r5, r5, Array.from({ length: 100_000 }, () => r5)],
    ];
    for (const [what, m, n, r1, r2, p] of bad) assert.throws(() => verifyConsistency(m, n, r1, r2, p), FAILED, what);
  });

  it('refuses to plan a proof that goes backwards', () => {
    for (const [m, n] of [[5, 4], [-1, 3], [1, 2.5]] as const) {
      assert.throws(() => consistencyProofPlan(m, n), { code: 'ERR_BAD_REQUEST', message: 'A consistency proof goes from a smaller tree to a larger one' });
    }
  });

  it('fills a plan from an asynchronous source in one batch', async () => {
    const leaves = entries(3000).map(leafHash);
    const hasher = memorySubtreeHasher(leaves);
    let batches = 0;
    const fetch = async (ranges: readonly LeafRange[]): Promise<Buffer[]> => {
      batches += 1;
      return ranges.map((r) => Buffer.from(hasher(r.start, r.end)));
    };
    for (const [m, n] of [[1, 3000], [1024, 3000], [1025, 2999], [2047, 2048]] as const) {
      const proof = await resolveProofAsync(consistencyProofPlan(m, n), fetch);
      assert.deepEqual(proof, consistencyProof(m, n, hasher));
      verifyConsistency(m, n, merkleRoot(leaves.slice(0, m)), merkleRoot(leaves.slice(0, n)), proof);
    }
    assert.equal(batches, 4);
  });
});
