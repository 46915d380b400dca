import { capitalize, tryGetDataType, type InternalSchemaElement, type InternalTypeSchema } from '@medplum/core';
import { codeTable, type CodeTable } from './bindings.js';
import { isKnownResourceType } from './definitions.js';

/** One JSON property a type allows: a plain element, or one type of a choice element. */
export interface Slot {
  /** The property name, taken from the definitions (never from the request). */
  readonly name: string;
  readonly element: InternalSchemaElement;
  /** The data type of the values under this property (`Resource` for contained resources). */
  readonly type: string;
  /** The choice element this property is one type of, e.g. `deceased[x]`. */
  readonly choice?: string;
  /** The codes of the element's required binding, when the type is coded and the set enumerable. */
  readonly table?: CodeTable;
}

const CODED = new Set(['code', 'Coding', 'CodeableConcept']);
const cache = new WeakMap<InternalTypeSchema, ReadonlyMap<string, Slot>>();

function slot(name: string, element: InternalSchemaElement, type: string, choice?: string): Slot {
  const binding = element.binding;
  const table = binding?.strength === 'required' && binding.valueSet !== undefined && CODED.has(type) ? codeTable(binding.valueSet) : undefined;
  return { name, element, type, ...(choice === undefined ? {} : { choice }), ...(table === undefined ? {} : { table }) };
}

/**
 * The JSON properties of a type, keyed by property name: `deceased[x]` appears as
 * `deceasedBoolean` and `deceasedDateTime`. Built once per type schema.
 */
export function slotsOf(schema: InternalTypeSchema): ReadonlyMap<string, Slot> {
  let slots = cache.get(schema);
  if (slots !== undefined) return slots;
  const built = new Map<string, Slot>();
  for (const [name, element] of Object.entries(schema.elements)) {
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      for (const t of element.type) built.set(base + capitalize(t.code), slot(base + capitalize(t.code), element, t.code, name));
    } else {
      built.set(name, slot(name, element, element.type[0]?.code ?? 'undefined'));
    }
  }
  slots = built;
  cache.set(schema, slots);
  return slots;
}

/** Primitive types are lower-case (`string`, `code`, and the FHIRPath `System.String` URL of `id`). */
export function isPrimitive(type: string): boolean {
  const c = type.charCodeAt(0);
  return c >= 97 && c <= 122;
}

/**
 * The schema of a resource, or undefined when `value` is not an object naming a concrete R4
 * resource type (data types such as HumanName are refused: Medplum would validate them as such).
 */
export function resourceSchema(value: unknown): InternalTypeSchema | undefined {
  const type = (value as { resourceType?: unknown }).resourceType;
  return typeof type === 'string' && isKnownResourceType(type) ? tryGetDataType(type) : undefined;
}

/** The schema to walk a non-primitive value of `slot` with. */
export function schemaOf(slot: Slot, value: unknown): InternalTypeSchema | undefined {
  if (slot.type === 'Resource') return resourceSchema(value);
  return isPrimitive(slot.type) ? undefined : tryGetDataType(slot.type);
}
