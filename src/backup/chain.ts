import { VigilError } from '../errors.js';
import type { ChunkStore } from './chunk-store.js';
import { MANIFEST_FORMAT, manifestHash, type Manifest, type ManifestFile } from './format.js';

/** A manifest as found in a backup set, with the hash its children must name. */
export interface LoadedManifest {
  readonly name: string;
  readonly file: ManifestFile;
  readonly manifest: Manifest;
  readonly sha256: string;
}

/** What is wrong with one manifest file that could not be read at all. */
export interface UnreadableManifest {
  readonly name: string;
  readonly problem: string;
}

function parseManifest(bytes: Buffer): ManifestFile {
  const parsed = JSON.parse(bytes.toString('utf8')) as Partial<ManifestFile>;
  const m = parsed.manifest as Partial<Manifest> | undefined;
  if (typeof parsed.signature !== 'string' || m === undefined || m.format !== MANIFEST_FORMAT || typeof m.id !== 'string' || !Array.isArray(m.files) || (m.kind !== 'full' && m.kind !== 'incremental')) {
    throw new Error('not a vigil-backup/v1 manifest');
  }
  return parsed as ManifestFile;
}

/** Every manifest of a backup set, oldest first, and the files that are not manifests at all. */
export function loadManifests(chunks: ChunkStore): { manifests: LoadedManifest[]; unreadable: UnreadableManifest[] } {
  const manifests: LoadedManifest[] = [];
  const unreadable: UnreadableManifest[] = [];
  for (const name of chunks.manifestNames()) {
    try {
      const file = parseManifest(chunks.readManifest(name));
      if (`${file.manifest.id}.json` !== name) throw new Error('its id does not match its file name');
      manifests.push({ name, file, manifest: file.manifest, sha256: manifestHash(file.manifest) });
    } catch (err) {
      unreadable.push({ name, problem: `unreadable manifest (${(err as Error).message})` });
    }
  }
  manifests.sort((a, b) => (a.manifest.createdAt < b.manifest.createdAt ? -1 : a.manifest.createdAt > b.manifest.createdAt ? 1 : a.name < b.name ? -1 : 1));
  return { manifests, unreadable };
}

/**
 * The chain of backups that ends at `head`, full first. Throws ERR_BACKUP when a parent is
 * missing (a deleted incremental) or is not the manifest its child names (a replaced one), or
 * when the high-water marks do not continue one another (a gap in the rows).
 */
export function chainOf(head: LoadedManifest, all: readonly LoadedManifest[]): LoadedManifest[] {
  const byId = new Map(all.map((m) => [m.manifest.id, m]));
  const chain: LoadedManifest[] = [head];
  for (let at = head; at.manifest.parent !== null; ) {
    const parent = byId.get(at.manifest.parent.id);
    if (parent === undefined) throw new VigilError('ERR_BACKUP', `Backup ${at.manifest.id} continues ${at.manifest.parent.id}, which is missing from the set`);
    if (parent.sha256 !== at.manifest.parent.manifestSha256) throw new VigilError('ERR_BACKUP', `Backup ${at.manifest.id} continues a different ${parent.manifest.id} than the one in the set (its manifest hash does not match)`);
    if (JSON.stringify(parent.manifest.highWater) !== JSON.stringify(at.manifest.previous)) throw new VigilError('ERR_BACKUP', `Backup ${at.manifest.id} does not start where ${parent.manifest.id} ends`);
    if (chain.includes(parent)) throw new VigilError('ERR_BACKUP', 'The chain of backups loops');
    chain.unshift(parent);
    at = parent;
  }
  const first = chain[0];
  if (first === undefined || first.manifest.kind !== 'full') throw new VigilError('ERR_BACKUP', 'The chain of backups does not start with a full backup');
  return chain;
}

/** The newest manifest of a set whose chain is whole, or undefined when there is none. */
export function latestComplete(all: readonly LoadedManifest[]): LoadedManifest | undefined {
  for (let i = all.length - 1; i >= 0; i--) {
    const m = all[i];
    if (m === undefined) continue;
    try {
      chainOf(m, all);
      return m;
    } catch {
      // An incomplete chain cannot be continued; an older, whole one can.
    }
  }
  return undefined;
}
