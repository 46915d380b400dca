import { capitalize, type InternalTypeSchema } from '@medplum/core';
import { resourceSchema, schemaOf, slotsOf } from './schema-slots.js';

const SEGMENT = /^(_?)([A-Za-z][A-Za-z0-9]*)(\[x\])?(?:\[([0-9]+)\])?$/;

/**
 * Medplum names a choice element by its definition (`Observation.value[x].value`); the client
 * needs the property it sent (`Observation.valueQuantity.value`). Resolves each `[x]` to the
 * type present in `resource`, picking the first type in definition order as Medplum does.
 * The names come from the definitions. Returns undefined when the path cannot be followed.
 *
 * @example
 * concretePath({ resourceType: 'Patient', deceasedDateTime: 'x' }, 'Patient.deceased[x]'); // 'Patient.deceasedDateTime'
 */
export function concretePath(resource: object, path: string): string | undefined {
  const [root, ...segments] = path.split('.');
  let schema: InternalTypeSchema | undefined = resourceSchema(resource);
  if (schema === undefined || root !== schema.name) return undefined;
  let value: unknown = resource;
  const out: string[] = [root];
  for (const segment of segments) {
    const m = SEGMENT.exec(segment);
    if (m === null || schema === undefined || typeof value !== 'object' || value === null) return undefined;
    const [, underscore = '', name = '', choice, index] = m;
    const elementName = choice === undefined ? name : `${name}[x]`;
    const element = Object.hasOwn(schema.elements, elementName) ? schema.elements[elementName] : undefined;
    if (element === undefined) return undefined;
    let key = name;
    if (choice !== undefined) {
      const obj = value as Record<string, unknown>;
      const type = element.type.find((t) => `${name}${capitalize(t.code)}` in obj || `_${name}${capitalize(t.code)}` in obj);
      if (type === undefined) return undefined;
      key = `${name}${capitalize(type.code)}`;
    }
    const slot = slotsOf(schema).get(key);
    if (slot === undefined) return undefined;
    value = (value as Record<string, unknown>)[underscore + key];
    if (index !== undefined) value = Array.isArray(value) ? value[Number(index)] : undefined;
    out.push(`${underscore}${key}${index === undefined ? '' : `[${index}]`}`);
    schema = value === undefined || value === null ? undefined : schemaOf(slot, value);
  }
  return out.join('.');
}
