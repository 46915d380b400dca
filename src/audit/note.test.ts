import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { noteSigner, noteVerifier, parseVerifierKey, verifierKeyString } from './note-key.js';
import { openNote, signNote } from './note.js';

/**
 * Known answers from the Go reference implementation of signed notes, golang.org/x/mod
 * sumdb/note (note.go's package example and note_test.go). Ed25519 is deterministic, so signing
 * the same text with the same key must give the same bytes.
 */
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY_MATERIAL = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // 0x01 || seed, from PRIVATE+KEY+PeterNeumann+c74f20a3+...
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const NOTE = `${TEXT}\n${PETER_SIG}`;

const FAILED = { code: 'ERR_INTEGRITY', message: 'The signed note does not verify' };
const BAD_KEY = { code: 'ERR_KEY', message: 'The note key is malformed' };

function peterPrivateKey() {
  const seed = Buffer.from(PETER_SKEY_MATERIAL, 'base64').subarray(1);
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

describe('signed notes (C2SP signed-note)', () => {
  const peter = parseVerifierKey(PETER_VKEY);

  it('reads the Go verifier key and writes it back byte for byte', () => {
    assert.equal(peter.name, 'PeterNeumann');
    assert.equal(peter.keyId.toString('hex'), 'c74f20a3');
    assert.equal(verifierKeyString(peter), PETER_VKEY);
    assert.equal(verifierKeyString(parseVerifierKey(ENOCH_VKEY)), ENOCH_VKEY);
  });

  it('signs the Go example note byte for byte', () => {
    const signer = noteSigner('PeterNeumann', peterPrivateKey());
    assert.equal(signer.keyId.toString('hex'), 'c74f20a3');
    assert.equal(signNote(TEXT, signer), NOTE);
  });

  it('opens the Go example note, as text or bytes, and skips signatures of unknown keys', () => {
    assert.equal(openNote(NOTE, peter), TEXT);
    assert.equal(openNote(Buffer.from(NOTE), peter), TEXT);
    assert.equal(openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, peter), TEXT);
    assert.equal(openNote(`${TEXT}\n${ENOCH_SIG}${PETER_SIG}`, parseVerifierKey(ENOCH_VKEY)), TEXT);
    assert.equal(openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}`, peter), TEXT);
  });

  it('rejects every tampered note with one generic error', () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forgedSig = sign(null, Buffer.from(TEXT), stranger);
    const forged = (keyId: Buffer): string => `\u2014 PeterNeumann ${Buffer.concat([keyId, forgedSig]).toString('base64')}\n`;
    const ownId = noteVerifier('PeterNeumann', createPublicKey(stranger)).keyId;
    const flipped = Buffer.from(PETER_SIG.slice(15, -1), 'base64');
    flipped[10] = (flipped[10] as number) ^ 1;
    const cases: [string, string | Uint8Array][] = [
      ['text only', TEXT],
      ['no signature lines', `${TEXT}\n`],
      ['no final newline', NOTE.slice(0, -1)],
      ['no blank line', `${TEXT}${PETER_SIG}`],
      ['extra newline at the end', `${NOTE}\n`],
      ['extra newline before the signature', `${TEXT}\n\n${PETER_SIG}`],
      ['extra newline at the start', `\n${NOTE}`],
      ['CRLF line ends', NOTE.replaceAll('\n', '\r\n')],
      ['control character', `\u0001${NOTE}`],
      ['not UTF-8', Buffer.concat([Buffer.of(0xff), Buffer.from(NOTE)])],
      ['lone surrogate', `\ud800${NOTE}`],
      ['text changed', NOTE.replace('cryptography', 'cryptographY')],
      ['signature bit flipped', `${TEXT}\n\u2014 PeterNeumann ${flipped.toString('base64')}\n`],
      ['signature with bytes inserted', `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`],
      ['key ID changed', NOTE.replace('x08g', 'xxxx')],
      ['name changed', NOTE.replace('\u2014 PeterNeumann', '\u2014 CarmenSandiego')],
      ['hyphen for the em dash', NOTE.replace('\u2014', '-')],
      ['two spaces', NOTE.replace('PeterNeumann ', 'PeterNeumann  ')],
      ['space in the name', `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
      ['unpadded base64', NOTE.replace('AM=\n', 'AM\n')],
      ['URL-safe base64', NOTE.replace('x08go/', 'x08go_')],
      ['an unexpected line after the signatures', `${NOTE}Unexpected line.\n`],
      ['only an unknown key signed', `${TEXT}\n${ENOCH_SIG}`],
      ['another key, its own key ID', `${TEXT}\n${forged(ownId)}`],
      ['another key, forged key ID', `${TEXT}\n${forged(peter.keyId)}`],
      ['a good and a forged signature', `${TEXT}\n${PETER_SIG}${forged(peter.keyId)}`],
      ['101 signatures', `${TEXT}\n${PETER_SIG.repeat(101)}`],
    ];
    for (const [what, note] of cases) assert.throws(() => openNote(note, peter), FAILED, what);
  });

  it('refuses to sign what would not parse back', () => {
    const signer = noteSigner('PeterNeumann', peterPrivateKey());
    for (const text of ['', 'abc', 'tab\there\n', 'bell\u0007\n']) {
      assert.throws(() => signNote(text, signer), { code: 'ERR_INTERNAL' }, JSON.stringify(text));
    }
  });

  it('rejects every mangled verifier key, as the Go tests do', () => {
    const bytes = Buffer.from(PETER_VKEY);
    for (let i = 0; i <= bytes.length; i += 1) {
      for (let j = i + 1; j <= bytes.length; j += 1) {
        if (i !== 0 || j !== bytes.length) assert.throws(() => parseVerifierKey(bytes.subarray(i, j).toString()), BAD_KEY);
      }
    }
    for (let i = 0; i < bytes.length; i += 1) {
      const copy = Buffer.from(bytes);
      copy[i] = (copy[i] as number) + 1;
      assert.throws(() => parseVerifierKey(copy.toString()), BAD_KEY, copy.toString());
    }
    assert.throws(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='), BAD_KEY);
    assert.throws(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), BAD_KEY);
    assert.throws(() => parseVerifierKey('PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), BAD_KEY);
  });

  it('takes only Ed25519 keys of the right kind', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => noteSigner('vigil.example/a', publicKey), BAD_KEY);
    assert.throws(() => noteVerifier('vigil.example/a', privateKey), BAD_KEY);
    assert.throws(() => noteSigner('vigil.example/a', ec.privateKey), BAD_KEY);
    assert.throws(() => noteSigner('has space', privateKey), BAD_KEY);
    assert.throws(() => noteSigner('has+plus', privateKey), BAD_KEY);
    assert.throws(() => noteSigner('', privateKey), BAD_KEY);
    const signer = noteSigner('vigil.example/a', privateKey);
    const verifier = parseVerifierKey(verifierKeyString(noteVerifier('vigil.example/a', publicKey)));
    assert.deepEqual(verifier.keyId, signer.keyId);
    assert.equal(openNote(signNote('hello\n', signer), verifier), 'hello\n');
    // The text may hold blank lines: the signatures start after the last one.
    assert.equal(openNote(signNote('a\n\nb\n', signer), verifier), 'a\n\nb\n');
  });
});
