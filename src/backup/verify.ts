import { existsSync } from 'node:fs';
import { VigilError } from '../errors.js';
import { parseVerifierKey, type NoteVerifier } from '../audit/note-key.js';
import { chainOf, loadManifests, type LoadedManifest } from './chain.js';
import { ChunkStore } from './chunk-store.js';
import { LogReplay } from './replay.js';
import { manifestSignedBy } from './signing.js';

export interface VerifyBackupOptions {
  /** The backup public key to trust (`vigil backup key`); default: the key the oldest full backup names. */
  readonly key?: string;
  /** Told as files are hashed: bytes done and total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One backup's verdict. */
export interface BackupVerdict {
  readonly id: string;
  readonly kind: string;
  readonly createdAt: string;
  readonly ok: boolean;
  readonly problems: string[];
}

/** What `vigil backup verify --json` prints. */
export interface VerifyBackupResult {
  readonly ok: boolean;
  readonly dir: string;
  /** Where the trusted key came from: `given` (--key) or `manifest` (trust on first use: pass --key to be sure). */
  readonly keySource: 'given' | 'manifest';
  readonly key: string | null;
  readonly backups: BackupVerdict[];
  /** Problems not tied to one backup (unreadable manifests, an empty set). */
  readonly problems: string[];
  readonly files: number;
  readonly bytes: number;
  readonly leaves: number;
  readonly versions: number;
  readonly seconds: number;
  /** Resource versions replayed per second. */
  readonly resourcesPerSecond: number;
}

/**
 * Checks a backup set without the live database: every chunk's size and SHA-256, every
 * manifest's signature, every chain of incrementals (parents present, hashes matching, high-water
 * marks continuous), and the Merkle log rebuilt from the leaf rows against each signed checkpoint.
 */
export function verifyBackupSet(dir: string, o: VerifyBackupOptions = {}): VerifyBackupResult {
  const started = performance.now();
  if (!existsSync(dir)) throw new VigilError('ERR_BACKUP', `No backup set at ${dir}`);
  const chunks = new ChunkStore(dir);
  const { manifests, unreadable } = loadManifests(chunks);
  const problems = unreadable.map((u) => `${u.name}: ${u.problem}`);
  if (manifests.length === 0) problems.push('the set holds no backup');
  const key = o.key ?? manifests.find((m) => m.manifest.kind === 'full')?.manifest.signer ?? null;
  let verifier: NoteVerifier | undefined;
  if (key !== null) verifier = parseVerifierKey(key);
  const verdicts = new Map<string, string[]>(manifests.map((m) => [m.manifest.id, []]));
  const note = (m: LoadedManifest, problem: string): void => void verdicts.get(m.manifest.id)?.push(problem);

  for (const m of manifests) if (verifier === undefined || !manifestSignedBy(m.file, verifier)) note(m, 'the manifest is not signed by the trusted backup key');

  // Each distinct file once: present, of the listed size, hashing to its name.
  const bad = new Map<string, string>();
  const unique = new Map<string, number>();
  for (const m of manifests) for (const f of m.manifest.files) unique.set(f.sha256, f.size);
  const totalBytes = [...unique.values()].reduce((a, b) => a + b, 0);
  let doneBytes = 0;
  for (const [sha, size] of unique) {
    try {
      chunks.readChunk(sha, size);
    } catch (err) {
      bad.set(sha, (err as Error).message);
    }
    doneBytes += size;
    o.onProgress?.(doneBytes, totalBytes);
  }
  for (const m of manifests) for (const f of m.manifest.files) if (bad.has(f.sha256)) note(m, bad.get(f.sha256) ?? 'a chunk is bad');

  // Chains: every head (a backup no other continues) is replayed from its full backup.
  const continued = new Set(manifests.flatMap((m) => (m.manifest.parent === null ? [] : [m.manifest.parent.id])));
  let leaves = 0;
  let versions = 0;
  for (const head of manifests.filter((m) => !continued.has(m.manifest.id))) {
    let chain: LoadedManifest[];
    try {
      chain = chainOf(head, manifests);
    } catch (err) {
      note(head, (err as Error).message);
      continue;
    }
    const replay = new LogReplay(parseVerifierKey(head.manifest.log.key), head.manifest.log.origin);
    for (const m of chain) {
      if (m.manifest.signer !== key || m.manifest.log.key !== chain[0]?.manifest.log.key) note(m, 'the backup names another signing or log key than the rest of its chain');
      if (m.manifest.files.some((f) => bad.has(f.sha256))) break;
      const found = replay.add(chunks, m.manifest);
      for (const p of found) note(m, p);
      if (found.length > 0) break;
    }
    leaves = Math.max(leaves, replay.frontier.size);
    versions += replay.versions;
  }
  // A child inherits its chain's faults: a backup restores only when everything under it does.
  for (const m of manifests) {
    try {
      for (const p of chainOf(m, manifests)) if (p !== m && (verdicts.get(p.manifest.id)?.length ?? 0) > 0) note(m, `its parent ${p.manifest.id} does not verify`);
    } catch (err) {
      if ((verdicts.get(m.manifest.id)?.length ?? 0) === 0) note(m, (err as Error).message);
    }
  }
  const backups = manifests.map((m) => {
    const list = [...new Set(verdicts.get(m.manifest.id) ?? [])];
    return { id: m.manifest.id, kind: m.manifest.kind, createdAt: m.manifest.createdAt, ok: list.length === 0, problems: list };
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    ok: problems.length === 0 && backups.every((b) => b.ok),
    dir,
    keySource: o.key === undefined ? 'manifest' : 'given',
    key,
    backups,
    problems,
    files: unique.size,
    bytes: totalBytes,
    leaves,
    versions,
    seconds: Math.round(seconds * 1000) / 1000,
    resourcesPerSecond: Math.round(versions / Math.max(seconds, 1e-6)),
  };
}
