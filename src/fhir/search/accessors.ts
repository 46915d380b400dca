import { getElementDefinition, type TypedValue } from '@medplum/core';
import { loadDefinitions } from '../definitions.js';

/** Reads the values of one search expression branch straight from a resource's JSON. */
export type Accessor = (resource: object) => TypedValue[];

/** One step of a path: the JSON property names it may take, each with the FHIR type it holds. */
type Step = readonly { readonly key: string; readonly type: string }[];

/**
 * `Type.a.b.c` and `(Type.a.b as T)`: the only shapes compiled here. The `as` operator keeps the
 * values whose type is T exactly (Medplum's ofType); the `.as(T)` function is left to FHIRPath,
 * whose engine lets, say, a dateTime pass `as(string)`.
 */
const SIMPLE = /^[A-Z][A-Za-z]+(?:\.[a-z][A-Za-z]*)+$/;
const AS = /^\(([A-Z][A-Za-z]+(?:\.[a-z][A-Za-z]*)+) as ([A-Za-z]+)\)$/;

/** Element types that keep the path inside the type that declares them. */
const INLINE = new Set(['BackboneElement', 'Element']);

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The steps of `Type.a.b`, with each step's FHIR type taken from the StructureDefinitions; a
 * choice element (`value[x]`) becomes one JSON key per type it allows (only `as` when given).
 * Undefined when any step is not a plain element (contained resources, content references).
 */
function steps(path: string, as: string | undefined): Step[] | undefined {
  const [root, ...names] = path.split('.');
  if (root === undefined || names.length === 0) return undefined;
  const out: Step[] = [];
  let owner = root;
  let relative: string[] = [];
  for (const [i, name] of names.entries()) {
    relative.push(name);
    const element = getElementDefinition(owner, relative.join('.'));
    if (element === undefined || element.type.length === 0) return undefined;
    const last = i === names.length - 1;
    const codes = element.type.map((t) => t.code);
    if (codes.length === 1 && !element.path.endsWith('[x]')) {
      const code = codes[0] ?? '';
      if (code === 'Resource' || (last && as !== undefined && code !== as)) return undefined;
      out.push([{ key: name, type: code }]);
      if (!INLINE.has(code)) {
        owner = code;
        relative = [];
      }
      continue;
    }
    // A choice: only as the last step (the values' own type then tells the value readers what they are).
    if (!last) return undefined;
    const kept = as === undefined ? codes : codes.filter((code) => code === as);
    if (kept.length === 0) return undefined;
    out.push(kept.map((code) => ({ key: `${name}${capitalize(code)}`, type: code })));
  }
  return out;
}

/**
 * Compiles a search expression branch into a direct reader when it is a plain element path
 * (optionally with the `as` operator), so indexing need not run the FHIRPath engine for it. It returns what
 * FHIRPath returns for such a path: every value along the path, arrays flattened, each with its
 * element type, and the types its values may have (the last step's). Anything else (where(),
 * functions, unions) gives undefined and stays FHIRPath.
 *
 * @example
 * compileReader('Observation.code')?.read(observation); // [{ type: 'CodeableConcept', value: {...} }]
 */
export function compileReader(expression: string): { readonly read: Accessor; readonly types: readonly string[] } | undefined {
  const as = AS.exec(expression);
  const path = as === null ? expression : (as[1] ?? '');
  if (!SIMPLE.test(path)) return undefined;
  loadDefinitions();
  const compiled = steps(path, as?.[2]);
  if (compiled === undefined) return undefined;
  const read: Accessor = (resource) => {
    let current: unknown[] = [resource];
    let out: TypedValue[] = [];
    for (const step of compiled) {
      const next: unknown[] = [];
      out = [];
      for (const holder of current) {
        if (typeof holder !== 'object' || holder === null) continue;
        for (const { key, type } of step) {
          const value = (holder as Record<string, unknown>)[key];
          if (value === undefined || value === null) continue;
          for (const item of Array.isArray(value) ? value : [value]) {
            if (item === undefined || item === null) continue;
            next.push(item);
            out.push({ type, value: item });
          }
        }
      }
      current = next;
    }
    return out;
  };
  return { read, types: (compiled.at(-1) ?? []).map((s) => s.type) };
}
