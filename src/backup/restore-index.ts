import type { Resource } from '@medplum/fhirtypes';
import { Keyring, resourceContext, type WrappedDataKey } from '../crypto/index.js';
import { indexDigest, sameHash } from '../audit/index.js';
import { VigilError } from '../errors.js';
import { BlindIndex } from '../fhir/index.js';
import { IndexBuilder } from '../fhir/search/index-rows.js';
import { INDEX_FORMATS } from '../fhir/search/params.js';
import type { Row } from './tables.js';

/** The search index rows of one current resource, as the tables hold them. */
export interface ResourceIndex {
  readonly hashes: Buffer[];
  readonly ranges: Row[];
}

/**
 * Rebuilds the search index of a version that is current after a point-in-time restore but was
 * not current in the backup's snapshot: it opens the ciphertext with the restored data keys and
 * extracts the rows as a write would. The result must hash to the digest the version committed
 * to, so a rebuilt index is exactly the one that was written.
 */
export class IndexRebuilder {
  readonly #keyring: Keyring;
  /** One builder per index format, newest first: a version is rebuilt in the format it was written in. */
  readonly #builders: readonly IndexBuilder[];

  private constructor(keyring: Keyring, builders: readonly IndexBuilder[]) {
    this.#keyring = keyring;
    this.#builders = builders;
  }

  static async open(master: Buffer, dataKeys: readonly WrappedDataKey[], tenant: string, fhirBaseUrl: string): Promise<IndexRebuilder> {
    const keyring = await Keyring.open(master, {
      listDataKeys: async () => [...dataKeys],
      addDataKey: async () => {
        throw new VigilError('ERR_BACKUP', 'The backup holds no data key');
      },
    });
    const blind = new BlindIndex(keyring.derive(`search-index:${tenant}`));
    return new IndexRebuilder(keyring, INDEX_FORMATS.map((format) => new IndexBuilder(blind, fhirBaseUrl, format)));
  }

  /** The index rows of a version row (resource_versions columns); throws when they do not match its digest. */
  rows(v: Row): ResourceIndex {
    const [, tenant, type, id, versionId] = v as [number, string, string, string, number];
    const plain = this.#keyring.decrypt(v[8] as Buffer, resourceContext(tenant, type, id, versionId));
    const resource = JSON.parse(plain.toString('utf8')) as Resource;
    for (const builder of this.#builders) {
      const rows = builder.rows(resource);
      const ranges = rows.ranges.map((r) => ({ ...r, param: `${type}.${r.param}` }));
      if (!sameHash(indexDigest({ hashes: rows.hashes.map((h) => h.hash), ranges }), v[9] as Buffer)) continue;
      const hashes = [...new Map(rows.hashes.map((h) => [Buffer.from(h.hash).toString('hex'), Buffer.from(h.hash)])).values()];
      return { hashes, ranges: ranges.map((r) => [0, r.param, r.lo, r.hi, r.unit === null ? null : Buffer.from(r.unit), r.unit2 === null ? null : Buffer.from(r.unit2)]) };
    }
    throw new VigilError('ERR_BACKUP', 'A rebuilt search index does not match the digest its version committed to (was the backup taken with another VIGIL_PUBLIC_URL?)');
  }
}
