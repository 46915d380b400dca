import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import { VigilError } from '../errors.js';
import { validate } from '../fhir/validate.js';
import { LOCATION_SYSTEM, MAX_PATIENTS, NPI_SYSTEM, PROVIDERS_FILE, SSN_SYSTEM, MRN_SYSTEM, TUNING, generateDataset, patientFileName, providerCounts, type DatasetFile } from './index.js';

const SEED = 20240601;
const SMALL = [...generateDataset({ patients: 20, seed: SEED })];
/** A larger set for statistics; not validated (that takes a while), only counted. */
const LARGE = [...generateDataset({ patients: 300, seed: 'statistics' })];

function resources(file: DatasetFile): Resource[] {
  return (file.bundle.entry ?? []).map((e) => e.resource as Resource);
}

function patientsOf(files: readonly DatasetFile[]): Patient[] {
  return files.flatMap((f) => resources(f).filter((r): r is Patient => r.resourceType === 'Patient'));
}

/** Every `reference` string anywhere inside `value`. */
function references(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) references(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

function countByType(files: readonly DatasetFile[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of files) for (const r of resources(f)) counts.set(r.resourceType, (counts.get(r.resourceType) ?? 0) + 1);
  return counts;
}

function errorOf(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VigilError);
    return err;
  }
  assert.fail('expected a VigilError');
}

describe('generateDataset', () => {
  it('yields the organizations bundle first, then one bundle per patient, named in order', () => {
    assert.equal(SMALL.length, 21);
    assert.equal(SMALL[0]?.name, PROVIDERS_FILE);
    assert.equal(SMALL[0]?.kind, 'providers');
    SMALL.slice(1).forEach((f, i) => {
      assert.equal(f.kind, 'patient');
      assert.equal(f.name, `patient-${String(i + 1).padStart(6, '0')}.json`);
    });
    assert.equal(patientFileName(7, 20), 'patient-000007.json');
    assert.equal(patientFileName(7, 12_345_678), 'patient-00000007.json');
  });

  it('writes Synthea-style transactions: every entry a POST to its type, with a unique urn:uuid fullUrl', () => {
    const seen = new Set<string>();
    for (const f of SMALL) {
      assert.equal(f.bundle.resourceType, 'Bundle');
      assert.equal(f.bundle.type, 'transaction');
      for (const entry of f.bundle.entry ?? []) {
        assert.match(entry.fullUrl ?? '', /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.ok(!seen.has(entry.fullUrl ?? ''), 'fullUrls are unique across the data set');
        seen.add(entry.fullUrl ?? '');
        assert.deepEqual(entry.request, { method: 'POST', url: entry.resource?.resourceType });
        assert.equal(entry.resource?.id, undefined, 'the server assigns ids');
      }
    }
  });

  it('makes only resources and bundles that pass the R4 validator', () => {
    let checked = 0;
    for (const f of SMALL) {
      for (const r of resources(f)) {
        try {
          validate(r);
        } catch (err) {
          assert.fail(`${f.name} ${r.resourceType}: ${JSON.stringify((err as VigilError).issues)}`);
        }
        checked++;
      }
      validate(f.bundle);
    }
    assert.ok(checked > 20 * 30, `validated ${checked} resources`);
  });

  it('is plain JSON: serializing and parsing gives the same value (no undefined, no dates, no NaN)', () => {
    for (const f of SMALL) assert.deepEqual(JSON.parse(JSON.stringify(f.bundle)), f.bundle);
  });

  it('is deterministic: the same seed and count give byte-identical output, another seed another', () => {
    const again = [...generateDataset({ patients: 20, seed: SEED })];
    assert.equal(JSON.stringify(again), JSON.stringify(SMALL));
    // A seed given as text is the same seed; with the same providers, patient k does not depend on the count.
    const prefix = [...generateDataset({ patients: 2, seed: String(SEED) })];
    assert.equal(JSON.stringify(prefix), JSON.stringify(SMALL.slice(0, 3)));
    const other = [...generateDataset({ patients: 20, seed: SEED + 1 })];
    for (let i = 0; i < other.length; i++) assert.notEqual(JSON.stringify(other[i]?.bundle), JSON.stringify(SMALL[i]?.bundle), `file ${i} differs`);
  });

  it('does not depend on the clock, but takes the end of the records as an option', () => {
    const later = [...generateDataset({ patients: 3, seed: SEED, asOf: new Date('2030-06-01T00:00:00Z') })];
    assert.notEqual(JSON.stringify(later[1]?.bundle), JSON.stringify(SMALL[1]?.bundle));
  });

  it('resolves every urn:uuid reference within its own bundle', () => {
    for (const f of SMALL) {
      const fullUrls = new Set((f.bundle.entry ?? []).map((e) => e.fullUrl));
      for (const reference of references(f.bundle.entry?.map((e) => e.resource))) {
        if (reference.startsWith('urn:uuid:')) assert.ok(fullUrls.has(reference), `${f.name}: ${reference} resolves`);
      }
    }
  });

  it('points from patient bundles to providers only by identifiers the organizations bundle holds', () => {
    const providers = SMALL[0] as DatasetFile;
    const known = new Set<string>();
    for (const r of resources(providers)) {
      for (const id of (r as { identifier?: { system?: string; value?: string }[] }).identifier ?? []) known.add(`${r.resourceType}?identifier=${id.system}|${id.value}`);
    }
    assert.ok(references(resources(providers)).every((ref) => ref.startsWith('urn:uuid:')), 'the providers bundle only points inside itself');
    const used = new Set<string>();
    for (const f of SMALL.slice(1)) {
      for (const reference of references(resources(f))) {
        if (reference.startsWith('urn:uuid:')) continue;
        assert.match(reference, new RegExp(`^(Organization|Practitioner)\\?identifier=${NPI_SYSTEM}\\|\\d{10}$|^Location\\?identifier=${LOCATION_SYSTEM}\\|L\\d{10}$`));
        assert.ok(known.has(reference), `${f.name}: ${reference} names a provider`);
        used.add(reference.split('?')[0] as string);
      }
    }
    assert.deepEqual([...used].sort(), ['Location', 'Organization', 'Practitioner']);
  });

  it('points every clinical resource of a patient bundle at that patient', () => {
    for (const f of SMALL.slice(1)) {
      const patientUrl = f.bundle.entry?.[0]?.fullUrl;
      assert.equal(f.bundle.entry?.[0]?.resource?.resourceType, 'Patient');
      for (const r of resources(f).slice(1)) {
        const subject = (r as { subject?: { reference?: string }; patient?: { reference?: string } }).subject ?? (r as { patient?: { reference?: string } }).patient;
        assert.equal(subject?.reference, patientUrl, `${f.name} ${r.resourceType}`);
      }
    }
  });

  it('has realistic counts: providers by population, 1 Patient and 1 CareTeam each, 1-20 encounters, ~60-150 resources on average', () => {
    for (const [n, orgs, practitioners] of [[20, 2, 5], [300, 2, 6], [10_000, 20, 200], [100_000, 200, 2000]] as const) {
      assert.deepEqual(providerCounts(n), { organizations: orgs, practitioners });
    }
    const providerTypes = countByType(SMALL.slice(0, 1));
    assert.deepEqual(Object.fromEntries(providerTypes), { Organization: 2, Location: 2, Practitioner: 5, PractitionerRole: 5 });
    const sizes: number[] = [];
    for (const f of LARGE.slice(1)) {
      const types = countByType([f]);
      assert.equal(types.get('Patient'), 1);
      assert.equal(types.get('CareTeam'), 1);
      const encounters = types.get('Encounter') ?? 0;
      assert.ok(encounters >= TUNING.minEncounters && encounters <= TUNING.maxEncounters, `${encounters} encounters`);
      assert.ok((types.get('Observation') ?? 0) >= 1);
      sizes.push(f.bundle.entry?.length ?? 0);
    }
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    assert.ok(mean >= 60 && mean <= 150, `mean ${mean} resources per patient`);
    assert.ok(Math.min(...sizes) < mean / 2 && Math.max(...sizes) > mean * 1.5, 'sizes vary from patient to patient');
    const all = countByType(LARGE);
    for (const type of ['Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'AllergyIntolerance', 'Immunization', 'Procedure']) {
      assert.ok((all.get(type) ?? 0) > 0, `some ${type}`);
    }
  });

  it('covers the variety tests need: accents, the deceased, a century of birth dates, identifiers that are synthetic', () => {
    const patients = patientsOf(LARGE);
    const names = patients.flatMap((p) => (p.name ?? []).flatMap((n) => [n.family ?? '', ...(n.given ?? [])]));
    assert.ok(names.some((n) => /[^\x00-\x7f]/.test(n)), 'some names have accents');
    assert.ok(patients.some((p) => p.deceasedDateTime !== undefined) && patients.some((p) => p.deceasedBoolean === false));
    const years = patients.map((p) => Number(p.birthDate?.slice(0, 4)));
    assert.ok(Math.min(...years) >= 1925 && Math.max(...years) <= 2024);
    assert.ok(Math.min(...years) < 1940 && Math.max(...years) > 2010, 'birth years spread over the century');
    assert.deepEqual(new Set(patients.map((p) => p.gender)), new Set(['male', 'female']));
    const mrns = patients.map((p) => p.identifier?.find((i) => i.system === MRN_SYSTEM)?.value);
    assert.equal(new Set(mrns).size, patients.length, 'MRNs are unique');
    const ssns = patients.map((p) => p.identifier?.find((i) => i.system === SSN_SYSTEM)?.value ?? '');
    assert.equal(new Set(ssns).size, patients.length, 'SSNs are unique');
    for (const ssn of ssns) assert.match(ssn, /^999-\d\d-\d{4}$/, 'in the never-issued 999 area');
    for (const p of patients) {
      for (const t of p.telecom ?? []) assert.match(t.value ?? '', t.system === 'phone' ? /^\(\d{3}\) 555-01\d\d$/ : /@example\.com$/);
      assert.ok((p.address?.[0]?.line?.length ?? 0) > 0 && p.address?.[0]?.postalCode?.length === 5);
    }
  });

  it('records observations as vital signs and labs with LOINC codes and UCUM units, coded and text values, and components', () => {
    const observations = LARGE.flatMap(resources).filter((r) => r.resourceType === 'Observation') as Observation[];
    const categories = new Set(observations.map((o) => o.category?.[0]?.coding?.[0]?.code));
    for (const c of ['vital-signs', 'laboratory', 'social-history']) assert.ok(categories.has(c), c);
    for (const o of observations) {
      assert.equal(o.status, 'final');
      assert.equal(o.code.coding?.[0]?.system, 'http://loinc.org');
      for (const q of [o.valueQuantity, ...(o.component ?? []).map((c) => c.valueQuantity)]) {
        if (q !== undefined) assert.equal(q.system, 'http://unitsofmeasure.org');
      }
    }
    assert.ok(observations.some((o) => o.valueCodeableConcept !== undefined));
    assert.ok(observations.some((o) => o.valueString !== undefined));
    assert.ok(observations.some((o) => o.code.coding?.[0]?.code === '85354-9' && o.component?.length === 2));
  });

  it('yields lazily: a data set of the largest size starts at once', () => {
    const it = generateDataset({ patients: MAX_PATIENTS, seed: 1 });
    assert.equal(it.next().value?.name, PROVIDERS_FILE);
    assert.equal(it.next().value?.name, 'patient-00000001.json');
    it.return();
  });

  it('refuses bad options with ERR_BAD_REQUEST, at the call rather than at the first item', () => {
    for (const patients of [0, -1, 1.5, Number.NaN, MAX_PATIENTS + 1]) {
      const err = errorOf(() => generateDataset({ patients, seed: 1 }));
      assert.equal(err.code, 'ERR_BAD_REQUEST');
      assert.equal(err.message, `patients must be an integer from 1 to ${MAX_PATIENTS}`);
    }
    for (const seed of ['', 'x'.repeat(201), 0.5]) {
      const err = errorOf(() => generateDataset({ patients: 1, seed }));
      assert.equal(err.code, 'ERR_BAD_REQUEST');
      assert.equal(err.message, 'seed must be an integer or a text of 1 to 200 characters');
    }
    const err = errorOf(() => generateDataset({ patients: 1, seed: 1, asOf: new Date('nope') }));
    assert.equal(err.message, 'asOf must be a valid date after 1925');
  });
});
