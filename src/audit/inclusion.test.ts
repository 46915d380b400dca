import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { merkleRoot } from './frontier.js';
import { inclusionProof, inclusionProofPlan, rootFromInclusionProof, verifyInclusion } from './inclusion.js';
import { referencePath, referenceRoot } from './reference-tree.js';
import { CT_INCLUSION, CT_LEAVES_HEX, CT_ROOTS_HEX, hexList } from './reference-vectors.js';
import { memorySubtreeHasher, resolveProofAsync } from './subtree.js';
import { emptyRoot, leafHash } from './tree-hash.js';
import type { LeafRange } from './tree-math.js';

const FAILED = { code: 'ERR_INTEGRITY', message: 'The inclusion proof does not verify' };
const entries = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`record ${i}`));
const someHash = Buffer.from('abacaba000000000000000000000000000000000000000000060061e00123456', 'hex');

function flip(proof: readonly Buffer[], at: number, bit: number): Buffer[] {
  return proof.map((h, i) => {
    if (i !== at) return h;
    const copy = Buffer.from(h);
    copy[0] = (copy[0] as number) ^ bit;
    return copy;
  });
}

/** Trillian-style probes: each one changes exactly one thing about a valid proof. */
function tampered(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer, otherLeaf: Buffer) {
  const probes: [string, number, number, Buffer, Buffer[], Buffer][] = [
    ['index - 1', index - 1, size, leaf, proof, root],
    ['index + 1', index + 1, size, leaf, proof, root],
    ['index ^ 2', index ^ 2, size, leaf, proof, root],
    ['size * 2', index, size * 2, leaf, proof, root],
    ['size / 2', index, Math.floor(size / 2), leaf, proof, root],
    ['another leaf', index, size, otherLeaf, proof, root],
    ['leaf hash of the wrong domain', index, size, leafHash(leaf), proof, root],
    ['empty root', index, size, leaf, proof, emptyRoot()],
    ['random root', index, size, leaf, proof, someHash],
    ['trailing empty hash', index, size, leaf, [...proof, Buffer.alloc(0)], root],
    ['trailing root', index, size, leaf, [...proof, root], root],
    ['preceding empty hash', index, size, leaf, [Buffer.alloc(0), ...proof], root],
    ['preceding root', index, size, leaf, [root, ...proof], root],
  ];
  for (let i = 0; i < proof.length; i += 1) {
    probes.push([`proof[${i}] bit 3 flipped`, index, size, leaf, flip(proof, i, 8), root]);
    probes.push([`proof[${i}] bit 7 flipped`, index, size, leaf, flip(proof, i, 128), root]);
  }
  if (proof.length > 0) probes.push(['last hash removed', index, size, leaf, proof.slice(0, -1), root]);
  if (proof.length > 0) probes.push(['first hash removed', index, size, leaf, proof.slice(1), root]);
  if (proof.length > 1) probes.push(['hash inserted', index, size, leaf, [proof[0] as Buffer, someHash, ...proof.slice(1)], root]);
  if (proof.length > 1) probes.push(['two hashes swapped', index, size, leaf, [proof[1] as Buffer, proof[0] as Buffer, ...proof.slice(2)], root]);
  return probes;
}

describe('inclusion proofs (RFC 9162 section 2.1.3)', () => {
  const ctLeaves = hexList(CT_LEAVES_HEX).map(leafHash);

  it('generates the reference proofs of transparency-dev/merkle', () => {
    const hasher = memorySubtreeHasher(ctLeaves);
    for (const v of CT_INCLUSION) {
      assert.deepEqual(
        inclusionProof(v.index, v.size, hasher).map((h) => h.toString('hex')),
        v.path,
        `${v.index} in ${v.size}`,
      );
      verifyInclusion(v.index, v.size, ctLeaves[v.index] as Buffer, hexList(v.path), Buffer.from(CT_ROOTS_HEX[v.size] as string, 'hex'));
    }
  });

  it('matches the RFC PATH and verifies, for every leaf of every size 1..64', () => {
    const data = entries(64);
    const leaves = data.map(leafHash);
    const hasher = memorySubtreeHasher(leaves);
    for (let size = 1; size <= 64; size += 1) {
      const root = referenceRoot(data.slice(0, size));
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(index, size, hasher);
        assert.deepEqual(proof, referencePath(index, data.slice(0, size)), `${index} in ${size}`);
        assert.deepEqual(rootFromInclusionProof(index, size, leaves[index] as Buffer, proof), root);
        verifyInclusion(index, size, leaves[index] as Buffer, proof, root);
      }
    }
  });

  it('rejects every tampered variant of every proof for sizes 1..40', () => {
    const data = entries(40);
    const leaves = data.map(leafHash);
    const hasher = memorySubtreeHasher(leaves);
    let probes = 0;
    for (let size = 1; size <= 40; size += 1) {
      const root = merkleRoot(leaves.slice(0, size));
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(index, size, hasher);
        const other = leaves[(index + 1) % 40] as Buffer;
        for (const [what, i, n, leaf, p, r] of tampered(index, size, leaves[index] as Buffer, proof, root, other)) {
          if (i === index && n === size && leaf === leaves[index] && p === proof && r === root) continue;
          assert.throws(() => verifyInclusion(i, n, leaf, p, r), FAILED, `${what}: ${index} in ${size}`);
          probes += 1;
        }
      }
    }
    assert.ok(probes > 10_000);
  });

  it('lets no proof verify for any other leaf position or tree size (sizes 1..16)', () => {
    const data = entries(16);
    const leaves = data.map(leafHash);
    const hasher = memorySubtreeHasher(leaves);
    const roots = Array.from({ length: 17 }, (_, n) => merkleRoot(leaves.slice(0, n)));
    for (let size = 1; size <= 16; size += 1) {
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(index, size, hasher);
        for (let n2 = 1; n2 <= 16; n2 += 1) {
          for (let i2 = 0; i2 < n2; i2 += 1) {
            if (n2 === size && i2 === index) continue;
            assert.throws(() => verifyInclusion(i2, n2, leaves[i2] as Buffer, proof, roots[n2] as Buffer), FAILED, `${index}/${size} as ${i2}/${n2}`);
          }
        }
      }
    }
  });

  it('rejects impossible positions and malformed inputs with the same error', () => {
    const leaf = leafHash(Buffer.from('x'));
    const cases: [string, number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
      ['empty tree', 0, 0, leaf, [], leaf],
      ['index at size', 1, 1, leaf, [], leaf],
      ['index past size', 2, 1, leaf, [], leaf],
      ['negative index', -1, 1, leaf, [], leaf],
      ['fractional size', 0, 1.5, leaf, [], leaf],
      ['short leaf hash', 0, 1, leaf.subarray(1), [], leaf],
      ['short root', 0, 1, leaf, [], leaf.subarray(1)],
      ['huge proof', 0, 2, leaf, Array.from({ length: 100_000 }, () => leaf), leaf],
    ];
    for (const [what, index, size, l, proof, root] of cases) {
      assert.throws(() => verifyInclusion(index, size, l, proof, root), FAILED, what);
    }
    verifyInclusion(0, 1, leaf, [], leaf); // a one-leaf tree's root is its leaf
  });

  it('refuses to plan a proof for a leaf outside the tree', () => {
    for (const [index, size] of [[0, 0], [3, 3], [-1, 2], [0.5, 2], [0, 2 ** 53]] as const) {
      assert.throws(() => inclusionProofPlan(index, size), { code: 'ERR_BAD_REQUEST', message: 'The leaf index is not inside the tree' });
    }
  });

  it('asks the hash source only for aligned perfect subtrees, in one batch when asynchronous', async () => {
    const leaves = entries(1000).map(leafHash);
    const hasher = memorySubtreeHasher(leaves);
    let batches = 0;
    const asked: LeafRange[] = [];
    const fetch = async (ranges: readonly LeafRange[]): Promise<Buffer[]> => {
      batches += 1;
      asked.push(...ranges);
      return ranges.map((r) => Buffer.from(hasher(r.start, r.end)));
    };
    for (const [index, size] of [[0, 1000], [999, 1000], [511, 1000], [512, 513], [700, 777]] as const) {
      const proof = await resolveProofAsync(inclusionProofPlan(index, size), fetch);
      assert.deepEqual(proof, inclusionProof(index, size, hasher));
    }
    assert.equal(batches, 5);
    for (const r of asked) {
      const n = r.end - r.start;
      assert.ok(Number.isInteger(Math.log2(n)) && r.start % n === 0, `${r.start}..${r.end}`);
    }
  });

  it('treats a short or missing hash from storage as corruption', async () => {
    const plan = inclusionProofPlan(3, 8);
    assert.throws(() => inclusionProof(3, 8, () => Buffer.alloc(31)), { code: 'ERR_INTEGRITY', message: 'A stored Merkle subtree hash is malformed' });
    await assert.rejects(resolveProofAsync(plan, async () => []), { code: 'ERR_INTEGRITY', message: 'A stored Merkle subtree hash is missing' });
    assert.throws(() => memorySubtreeHasher(entries(8).map(leafHash))(1, 3), { code: 'ERR_INTERNAL' });
  });
});
