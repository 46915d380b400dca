import { getDataType, type InternalTypeSchema } from '@medplum/core';
import type { ErrorIssue } from '../errors.js';
import type { CodeTable } from './bindings.js';
import { resourceSchema, schemaOf, slotsOf, type Slot } from './schema-slots.js';

/**
 * Rules of FHIR R4 JSON that Medplum's validateResource does not enforce:
 * - strings, arrays and objects are never empty (Medplum treats `""`, `[]` and `{}` as absent);
 * - a choice element `x[x]` carries one type only (Medplum warns, and validates the first type);
 * - a code bound `required` must be in its ValueSet, when the set can be enumerated (bindings.ts);
 * - a contained or bundled resource names a concrete R4 resource type.
 *
 * Every message and path is built from the definitions: request values are never echoed.
 */

type Json = Record<string, unknown>;
type Issue = Required<ErrorIssue>;

const EMPTY_STRING = 'Invalid empty string (FHIR JSON strings are never empty)';
const EMPTY_ARRAY = 'Invalid empty array (FHIR JSON arrays are never empty)';
const EMPTY_OBJECT = 'Invalid empty object (FHIR JSON objects are never empty)';
const UNKNOWN_RESOURCE = 'Missing or unknown resource type';

function notInValueSet(slot: Slot): string {
  return `Code is not in the required value set ${(slot.element.binding?.valueSet ?? '').split('|')[0] ?? ''}`;
}

function isEmptyObject(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

/** Only a Coding in one of the set's own systems is judged: others may be translations. */
function checkCoding(coding: unknown, table: CodeTable, slot: Slot, path: string, issues: Issue[]): void {
  if (typeof coding !== 'object' || coding === null) return;
  const { system, code } = coding as Json;
  if (typeof system === 'string' && typeof code === 'string' && table.systems.has(system) && !table.codes.has(code)) {
    issues.push({ message: notInValueSet(slot), path: `${path}.code` });
  }
}

function checkCoded(value: Json, table: CodeTable, slot: Slot, path: string, issues: Issue[]): void {
  if (slot.type === 'Coding') {
    checkCoding(value, table, slot, path, issues);
  } else if (slot.type === 'CodeableConcept' && Array.isArray(value['coding'])) {
    value['coding'].forEach((coding, i) => checkCoding(coding, table, slot, `${path}.coding[${i}]`, issues));
  }
}

function visitItem(value: unknown, slot: Slot, path: string, extension: boolean, issues: Issue[]): void {
  if (typeof value === 'string') {
    if (value.length === 0) issues.push({ message: EMPTY_STRING, path });
    else if (!extension && slot.table !== undefined && slot.type === 'code' && !slot.table.codes.has(value)) {
      issues.push({ message: notInValueSet(slot), path });
    }
    return;
  }
  // Anything else that is not an object (null, numbers, booleans, nested arrays) is Medplum's to judge.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  if (isEmptyObject(value)) {
    issues.push({ message: EMPTY_OBJECT, path });
    return;
  }
  // `_birthDate` and friends carry the id and extensions of a primitive value.
  const schema = extension ? getDataType('Element') : schemaOf(slot, value);
  if (schema === undefined) {
    if (slot.type === 'Resource') issues.push({ message: UNKNOWN_RESOURCE, path });
    return;
  }
  if (!extension && slot.table !== undefined) checkCoded(value as Json, slot.table, slot, path, issues);
  walkObject(value as Json, schema, path, issues);
}

function walkObject(obj: Json, schema: InternalTypeSchema, path: string, issues: Issue[]): void {
  const slots = slotsOf(schema);
  let chosen: Map<string, string> | undefined;
  for (const key of Object.keys(obj)) {
    const extension = key.startsWith('_');
    const slot = slots.get(extension ? key.slice(1) : key);
    // Unknown properties (and resourceType) are left to Medplum, which refuses unknown ones.
    if (slot === undefined) continue;
    const at = `${path}.${extension ? '_' : ''}${slot.name}`;
    if (slot.choice !== undefined) {
      chosen ??= new Map();
      const first = chosen.get(slot.choice);
      if (first === undefined) chosen.set(slot.choice, slot.name);
      else if (first !== slot.name) issues.push({ message: `Only one type may be given for ${slot.choice} (found ${first} already)`, path: at });
    }
    const value = obj[key];
    if (!Array.isArray(value)) {
      visitItem(value, slot, at, extension, issues);
    } else if (value.length === 0) {
      issues.push({ message: EMPTY_ARRAY, path: at });
    } else {
      value.forEach((item, i) => visitItem(item, slot, `${at}[${i}]`, extension, issues));
    }
  }
}

/**
 * Checks `resource` (whose resourceType is already known to be a concrete R4 type) and the
 * resources inside it against the rules above. Returns every problem found, by path.
 *
 * @example
 * structureIssues({ resourceType: 'Patient', gender: 'robot', birthDate: '' });
 * // [{ path: 'Patient.gender', message: 'Code is not in the required value set ...' },
 * //  { path: 'Patient.birthDate', message: 'Invalid empty string (...)' }]
 */
export function structureIssues(resource: object): ErrorIssue[] {
  const schema = resourceSchema(resource);
  const issues: Issue[] = [];
  if (schema === undefined) return [{ message: UNKNOWN_RESOURCE }];
  walkObject(resource as Json, schema, schema.name, issues);
  return issues;
}
