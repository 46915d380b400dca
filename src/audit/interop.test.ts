import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RFC9162 } from '@transmute/rfc9162';
import { consistencyProof } from './consistency.js';
import { merkleRoot } from './frontier.js';
import { inclusionProof } from './inclusion.js';
import { memorySubtreeHasher } from './subtree.js';
import { leafHash } from './tree-hash.js';
import { isPowerOfTwo } from './tree-math.js';

/**
 * Cross-checks against an independent implementation, @transmute/rfc9162 (a devDependency, used
 * by no runtime code). Its consistency proofs differ from RFC 9162 in one documented way, pinned
 * below: when the old tree is the whole left edge (old size a power of two, or equal sizes) it
 * puts the old root in front of the proof, where the RFC leaves it out and the verifier adds it.
 */

const hex = (list: readonly Uint8Array[]): string[] => list.map((h) => Buffer.from(h).toString('hex'));
const N = 33;
const data = Array.from({ length: N }, (_, i) => Buffer.from(`interop ${i}`));
const leaves = data.map(leafHash);
const hasher = memorySubtreeHasher(leaves);

describe('interoperability with @transmute/rfc9162', () => {
  it('computes the same leaf hashes and roots for sizes 1..33', async () => {
    for (let i = 0; i < N; i += 1) assert.equal(Buffer.from(await RFC9162.leaf(data[i] as Buffer)).toString('hex'), (leaves[i] as Buffer).toString('hex'));
    for (let n = 1; n <= N; n += 1) {
      assert.equal(Buffer.from(await RFC9162.treeHead(data.slice(0, n))).toString('hex'), merkleRoot(leaves.slice(0, n)).toString('hex'), `size ${n}`);
    }
  });

  it('computes the same inclusion paths, and accepts ours, for every leaf of sizes 1..33', async () => {
    for (let n = 1; n <= N; n += 1) {
      const root = merkleRoot(leaves.slice(0, n));
      for (let m = 0; m < n; m += 1) {
        const ours = inclusionProof(m, n, hasher);
        assert.deepEqual(hex(await RFC9162.PATH(m, data.slice(0, n))), hex(ours), `${m} in ${n}`);
        const proof = { log_id: '', tree_size: n, leaf_index: m, inclusion_path: ours };
        assert.equal(await RFC9162.verifyInclusionProof(root, leaves[m] as Buffer, proof), true, `${m} in ${n}`);
      }
    }
  });

  it('computes the same consistency proofs, but for its old-root prefix on left-edge trees', async () => {
    for (let n = 1; n <= N; n += 1) {
      for (let m = 1; m <= n; m += 1) {
        const ours = consistencyProof(m, n, hasher);
        const theirs = hex(await RFC9162.PROOF(m, data.slice(0, n)));
        const leftEdge = isPowerOfTwo(m) || m === n;
        const expected = leftEdge ? [merkleRoot(leaves.slice(0, m)).toString('hex'), ...hex(ours)] : hex(ours);
        assert.deepEqual(theirs, expected, `${m} -> ${n}`);
      }
    }
  });

  it('accepts our consistency proofs (with its prefix on left-edge trees) for all 1 <= m < n <= 33', async () => {
    for (let n = 2; n <= N; n += 1) {
      for (let m = 1; m < n; m += 1) {
        const r1 = merkleRoot(leaves.slice(0, m));
        const ours = consistencyProof(m, n, hasher);
        const path = isPowerOfTwo(m) ? [r1, ...ours] : ours;
        const proof = { log_id: '', tree_size_1: m, tree_size_2: n, consistency_path: path };
        assert.equal(await RFC9162.verifyConsistencyProof(r1, merkleRoot(leaves.slice(0, n)), proof), true, `${m} -> ${n}`);
      }
    }
  });
});
