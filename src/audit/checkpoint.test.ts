import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkpointText, openCheckpoint, parseCheckpointText, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { noteSigner, noteVerifier, verifierKeyString, type NoteSigner, type NoteVerifier } from './note-key.js';
import { CT_ROOTS_HEX } from './reference-vectors.js';

const ORIGIN = 'vigil.example/acme';
const ROOT8 = Buffer.from(CT_ROOTS_HEX[8] as string, 'hex');
const ROOT8_B64 = ROOT8.toString('base64');
const FAILED = { code: 'ERR_INTEGRITY', message: 'The signed note does not verify' };

function keys(name = ORIGIN): { signer: NoteSigner; verifier: NoteVerifier; vkey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const verifier = noteVerifier(name, publicKey);
  return { signer: noteSigner(name, privateKey), verifier, vkey: verifierKeyString(verifier) };
}

/** Signs any text, bypassing signNote's checks, so malformed bodies can carry a valid signature. */
function signRaw(text: string, signer: NoteSigner): string {
  const blob = Buffer.concat([signer.keyId, sign(null, Buffer.from(text), signer.privateKey)]).toString('base64');
  return `${text}\n\u2014 ${signer.name} ${blob}\n`;
}

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const k = keys();
  const cp: Checkpoint = { origin: ORIGIN, size: 8, rootHash: ROOT8 };

  it('writes the three-line body', () => {
    assert.equal(checkpointText(cp), `${ORIGIN}\n8\n${ROOT8_B64}\n`);
    assert.equal(checkpointText({ ...cp, size: 0, extensions: ['ts 1700000000'] }), `${ORIGIN}\n0\n${ROOT8_B64}\nts 1700000000\n`);
  });

  it('reads the example checkpoint of the C2SP spec', () => {
    const parsed = parseCheckpointText('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    assert.equal(parsed.origin, 'example.com/behind-the-sofa');
    assert.equal(parsed.size, 20852163);
    assert.equal(Buffer.from(parsed.rootHash).toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.deepEqual(parsed.extensions, []);
  });

  it('signs and opens a checkpoint, with a verifier key string or object, with extensions', () => {
    const note = signCheckpoint(cp, k.signer);
    assert.match(note, new RegExp(`^${ORIGIN}\\n8\\n${ROOT8_B64.replaceAll('+', '\\+')}\\n\\n\u2014 ${ORIGIN} [A-Za-z0-9+/]{91}=\\n$`));
    const opened = openCheckpoint(note, { verifier: k.vkey, origin: ORIGIN });
    assert.deepEqual({ ...opened, rootHash: Buffer.from(opened.rootHash) }, { ...cp, extensions: [] });
    const withExt = signCheckpoint({ ...cp, size: 2 ** 53 - 1, extensions: ['a', 'b c'] }, k.signer);
    const back = openCheckpoint(Buffer.from(withExt), { verifier: k.verifier, origin: ORIGIN });
    assert.equal(back.size, 2 ** 53 - 1);
    assert.deepEqual(back.extensions, ['a', 'b c']);
  });

  it('rejects every tampered field of a signed checkpoint with one generic error', () => {
    const note = signCheckpoint({ ...cp, extensions: ['x'] }, k.signer);
    const [origin, size, root, ext, blank, sig] = note.split('\n') as [string, string, string, string, string, string];
    const sigBlob = Buffer.from(sig.slice(sig.lastIndexOf(' ') + 1), 'base64');
    const withBlob = (blob: Buffer): string => note.replace(sig, `${sig.slice(0, sig.lastIndexOf(' ') + 1)}${blob.toString('base64')}`);
    const flip = (at: number): Buffer => {
      const b = Buffer.from(sigBlob);
      b[at] = (b[at] as number) ^ 0x20;
      return b;
    };
    const otherRoot = Buffer.from(ROOT8);
    otherRoot[31] = (otherRoot[31] as number) ^ 1;
    const cases: [string, string][] = [
      ['origin', note.replace(origin, 'vigil.example/acmf')],
      ['size', note.replace(`\n${size}\n`, '\n9\n')],
      ['root', note.replace(root, otherRoot.toString('base64'))],
      ['extension line', note.replace(`\n${ext}\n`, '\ny\n')],
      ['extension line removed', note.replace(`\n${ext}\n`, '\n')],
      ['extension line added', note.replace(`\n${ext}\n`, `\n${ext}\nz\n`)],
      ['blank line removed', note.replace(`\n${blank}\n\u2014`, '\n\u2014')],
      ['newline added at the end', `${note}\n`],
      ['final newline removed', note.slice(0, -1)],
      ['newline added at the start', `\n${note}`],
      ['key name', note.replace(`\u2014 ${ORIGIN} `, '\u2014 vigil.example/other ')],
      ['key hash', withBlob(flip(0))],
      ['signature first byte', withBlob(flip(4))],
      ['signature last byte', withBlob(flip(67))],
      ['signature truncated', withBlob(sigBlob.subarray(0, 67))],
      ['signature extended', withBlob(Buffer.concat([sigBlob, Buffer.of(0)]))],
    ];
    for (const [what, bad] of cases) {
      assert.notEqual(bad, note, what);
      assert.throws(() => openCheckpoint(bad, { verifier: k.vkey, origin: ORIGIN }), FAILED, what);
    }
  });

  it('rejects a checkpoint signed by another key, or by another key posing with our key hash', () => {
    const other = keys();
    assert.throws(() => openCheckpoint(signCheckpoint(cp, other.signer), { verifier: k.vkey, origin: ORIGIN }), FAILED);
    const poser: NoteSigner = { ...other.signer, keyId: k.signer.keyId };
    assert.throws(() => openCheckpoint(signCheckpoint(cp, poser), { verifier: k.vkey, origin: ORIGIN }), FAILED);
    // Our signature next to a forged one under our key hash: the forged one spoils the note.
    const ours = signCheckpoint(cp, k.signer);
    const forgedLine = signCheckpoint(cp, poser).split('\n\n')[1] as string;
    assert.throws(() => openCheckpoint(`${ours}${forgedLine}`, { verifier: k.vkey, origin: ORIGIN }), FAILED);
    // A stranger's extra signature (another name) is ignored, as the note spec requires.
    const witness = keys('witness.example/w1');
    const witnessLine = signCheckpoint(cp, witness.signer).split('\n\n')[1] as string;
    assert.equal(openCheckpoint(`${ours}${witnessLine}`, { verifier: k.vkey, origin: ORIGIN }).size, 8);
  });

  it('rejects a valid signature over a checkpoint of another log (another tenant)', () => {
    const note = signCheckpoint({ ...cp, origin: 'vigil.example/other' }, k.signer);
    assert.throws(() => openCheckpoint(note, { verifier: k.vkey, origin: ORIGIN }), FAILED);
  });

  it('rejects malformed bodies even when the trusted key signed them', () => {
    const bodies: [string, string][] = [
      ['leading zero', `${ORIGIN}\n08\n${ROOT8_B64}\n`],
      ['negative size', `${ORIGIN}\n-1\n${ROOT8_B64}\n`],
      ['plus sign', `${ORIGIN}\n+8\n${ROOT8_B64}\n`],
      ['decimal point', `${ORIGIN}\n8.0\n${ROOT8_B64}\n`],
      ['hex size', `${ORIGIN}\n0x8\n${ROOT8_B64}\n`],
      ['exponent', `${ORIGIN}\n1e3\n${ROOT8_B64}\n`],
      ['space in size', `${ORIGIN}\n 8\n${ROOT8_B64}\n`],
      ['empty size', `${ORIGIN}\n\n${ROOT8_B64}\n`],
      ['size past 2^53', `${ORIGIN}\n9007199254740992\n${ROOT8_B64}\n`],
      ['size of 17 digits', `${ORIGIN}\n10000000000000000\n${ROOT8_B64}\n`],
      ['unpadded root', `${ORIGIN}\n8\n${ROOT8_B64.replace('=', '')}\n`],
      ['URL-safe root', `${ORIGIN}\n8\n${ROOT8_B64.replaceAll('/', '_').replaceAll('+', '-')}\n`],
      ['not base64', `${ORIGIN}\n8\n${'*'.repeat(44)}\n`],
      ['31-byte root', `${ORIGIN}\n8\n${ROOT8.subarray(1).toString('base64')}\n`],
      ['33-byte root', `${ORIGIN}\n8\n${Buffer.concat([ROOT8, Buffer.of(0)]).toString('base64')}\n`],
      ['hex root', `${ORIGIN}\n8\n${ROOT8.toString('hex')}\n`],
      ['missing root line', `${ORIGIN}\n8\n`],
      ['only the origin', `${ORIGIN}\n`],
      ['empty extension line', `${ORIGIN}\n8\n${ROOT8_B64}\n\n`],
      ['empty origin', `\n8\n${ROOT8_B64}\n`],
      ['space in origin', `vigil.example/ac me\n8\n${ROOT8_B64}\n`],
      ['origin with trailing space', `${ORIGIN} \n8\n${ROOT8_B64}\n`],
      ['no final newline', `${ORIGIN}\n8\n${ROOT8_B64}`],
    ];
    for (const [what, body] of bodies) {
      assert.throws(() => openCheckpoint(signRaw(body, k.signer), { verifier: k.vkey, origin: ORIGIN }), FAILED, what);
    }
  });

  it('refuses to write a checkpoint that would not read back', () => {
    const bad: [string, Checkpoint][] = [
      ['empty origin', { ...cp, origin: '' }],
      ['origin with a space', { ...cp, origin: 'a b' }],
      ['origin with a plus', { ...cp, origin: 'a+b' }],
      ['origin with a newline', { ...cp, origin: 'a\nb' }],
      ['negative size', { ...cp, size: -1 }],
      ['unsafe size', { ...cp, size: 2 ** 53 }],
      ['short root', { ...cp, rootHash: ROOT8.subarray(1) }],
      ['empty extension', { ...cp, extensions: [''] }],
      ['extension with a newline', { ...cp, extensions: ['a\nb'] }],
    ];
    for (const [what, c] of bad) assert.throws(() => checkpointText(c), { code: 'ERR_INTERNAL' }, what);
  });

  it('reports a malformed verifier key as a key problem, not as a bad checkpoint', () => {
    assert.throws(() => openCheckpoint(signCheckpoint(cp, k.signer), { verifier: 'not a key', origin: ORIGIN }), { code: 'ERR_KEY', message: 'The note key is malformed' });
  });
});
