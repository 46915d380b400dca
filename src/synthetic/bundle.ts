import type { Bundle, BundleEntry, Reference, Resource } from '@medplum/fhirtypes';
import type { Rng } from './random.js';

/**
 * Builds one FHIR transaction Bundle the way Synthea writes them: every entry is a POST with a
 * `urn:uuid:` fullUrl, and entries point at each other by that fullUrl.
 */
export class TransactionBuilder {
  private readonly entries: BundleEntry[] = [];

  constructor(private readonly rng: Rng) {}

  /** A fresh `urn:uuid:` fullUrl, for an entry that others must point at before it is added. */
  reserve(): string {
    return `urn:uuid:${this.rng.uuid()}`;
  }

  /** Adds `resource` as a POST entry and returns its fullUrl (`fullUrl` if reserved, else a new one). */
  add(resource: Resource, fullUrl: string = this.reserve()): string {
    this.entries.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });
    return fullUrl;
  }

  get size(): number {
    return this.entries.length;
  }

  build(): Bundle {
    return { resourceType: 'Bundle', type: 'transaction', entry: this.entries };
  }
}

/** A reference to an entry of the same bundle. */
export function ref<T extends Resource = Resource>(fullUrl: string, display?: string): Reference<T> {
  return display === undefined ? { reference: fullUrl } : { reference: fullUrl, display };
}

/** A conditional reference by identifier, resolved by the server when it processes the transaction. */
export function conditionalRef<T extends Resource>(type: T['resourceType'], system: string, value: string, display: string): Reference<T> {
  return { reference: `${type}?identifier=${system}|${value}`, display };
}
