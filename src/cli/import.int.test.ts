import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import Database from 'better-sqlite3';
import { loadConfig } from '../config/index.js';
import { openVigil, type Vigil } from '../runtime/index.js';
import { parseSearch } from '../fhir/index.js';
import type { ImportReport } from './import-report.js';
import { serve as serveWith, stop, tokenFor, type Served } from '../testing/serve.js';

/** The CLI compiled beside this test. */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

/** Synthetic identifying values: none of them may ever reach the terminal. */
const PHI = ['Zyxwvuname', 'Qopfamily', 'Collectname', 'Batchsecret', 'Invalidgenderphi', 'Ndjsongood', 'Brokenlinephi', 'Baddatephi', 'Malformedfamilyxyz', 'Rollbackname', 'Loosename', 'Servername'];

function env(): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL_'))), VIGIL_LOG_LEVEL: 'info' };
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: env(), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertNoPhi(text: string): void {
  for (const value of PHI) assert.ok(!text.includes(value), `${value} reached the output`);
}

/** A fresh data directory holding a store (as `vigil serve` leaves it). */
async function newDataDir(root: string, name: string): Promise<string> {
  const dataDir = join(root, name);
  await (await openVigil(loadConfig({}, { dataDir }), { create: true })).close();
  return dataDir;
}

function write(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

const post = (fullUrl: string, resource: Record<string, unknown>): Record<string, unknown> => ({ fullUrl, resource, request: { method: 'POST', url: resource['resourceType'] } });

/** A Synthea-like patient: a transaction of POSTs linked by urn:uuid, with a conditional reference to an Organization. */
const syntheaPatient = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    post('urn:uuid:11111111-1111-4111-8111-111111111111', { resourceType: 'Patient', name: [{ family: 'Qopfamily', given: ['Zyxwvuname'] }], gender: 'female' }),
    post('urn:uuid:22222222-2222-4222-8222-222222222222', {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
      serviceProvider: { reference: 'Organization?identifier=https://github.com/synthetichealth/synthea|org-1' },
    }),
    post('urn:uuid:33333333-3333-4333-8333-333333333333', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] },
      subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
      encounter: { reference: 'urn:uuid:22222222-2222-4222-8222-222222222222' },
      valueQuantity: { value: 170, unit: 'cm', system: 'http://unitsofmeasure.org', code: 'cm' },
    }),
  ],
};

/** Synthea's hospitalInformation: a batch of conditional creates that the patients reference. */
const hospitalInformation = {
  resourceType: 'Bundle',
  type: 'batch',
  entry: [
    {
      resource: { resourceType: 'Organization', identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: 'org-1' }], name: 'General Hospital' },
      request: { method: 'POST', url: 'Organization', ifNoneExist: 'identifier=https://github.com/synthetichealth/synthea|org-1' },
    },
  ],
};

const collection = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { fullUrl: 'urn:uuid:44444444-4444-4444-8444-444444444444', resource: { resourceType: 'Patient', name: [{ family: 'Collectname' }] } },
    {
      fullUrl: 'urn:uuid:55555555-5555-4555-8555-555555555555',
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'urn:uuid:44444444-4444-4444-8444-444444444444' } },
    },
    { fullUrl: 'http://example.org/fhir/Patient/coll-2', resource: { resourceType: 'Patient', id: 'coll-2', name: [{ family: 'Collectname' }] } },
    // A search outcome is not data: it is left out, not counted as a failure.
    { resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'informational' }] }, search: { mode: 'outcome' } },
  ],
};

const batch = {
  resourceType: 'Bundle',
  type: 'batch',
  entry: [
    { resource: { resourceType: 'Patient', id: 'batch-1', name: [{ family: 'Batchsecret' }] }, request: { method: 'PUT', url: 'Patient/batch-1' } },
    { resource: { resourceType: 'Patient', gender: 'Invalidgenderphi' }, request: { method: 'POST', url: 'Patient' } },
    { resource: { resourceType: 'Patient', name: [{ family: 'Batchsecret' }] } },
    { resource: { resourceType: 'Patient', name: [{ family: 'Batchsecret' }] }, request: { method: 'POST', url: 'Patient' } },
    null,
  ],
};

const ndjson = [
  JSON.stringify({ resourceType: 'Patient', id: 'nd-1', name: [{ family: 'Ndjsongood' }] }),
  '{"resourceType":"Patient","name":[{"family":"Brokenlinephi"}]',
  '',
  JSON.stringify({ resourceType: 'Patient', id: 'nd-2', birthDate: 'Baddatephi' }),
  JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Ndjsongood' }] }),
  JSON.stringify({ resourceType: 'Patient', id: 'nd-3', name: [{ family: 'Ndjsongood' }] }),
  // The same id twice: one transaction may not touch a resource twice, so the chunk goes one by one.
  JSON.stringify({ resourceType: 'Patient', id: 'nd-3', name: [{ family: 'Ndjsongood' }], gender: 'male' }),
].join('\n');

/** Valid entries, then an invalid last one: the transaction must leave nothing behind. */
const failingTransaction = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    post('urn:uuid:66666666-6666-4666-8666-666666666666', { resourceType: 'Patient', name: [{ family: 'Rollbackname' }] }),
    post('urn:uuid:77777777-7777-4777-8777-777777777777', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: 'urn:uuid:66666666-6666-4666-8666-666666666666' },
    }),
    { resource: { resourceType: 'Patient', id: 'rollback-put', name: [{ family: 'Rollbackname' }] }, request: { method: 'PUT', url: 'Patient/rollback-put' } },
    post('urn:uuid:88888888-8888-4888-8888-888888888888', { resourceType: 'Observation', status: 'not-a-status', code: { text: 'x' } }),
  ],
};

async function search(vigil: Vigil, type: string, params: [string, string][]): Promise<Resource[]> {
  return (await vigil.repository.search(parseSearch(type, params, false))).matches.map((m) => m.resource);
}

function countVersions(dataDir: string): number {
  const db = new Database(join(dataDir, 'vigil.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM resource_versions').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('vigil import', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'vigil-import-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('loads a folder of every kind in order, reports each failure by place, and echoes no value', async () => {
    const data = await newDataDir(root, 'all');
    const src = join(root, 'fixtures');
    // By name the patient would come first: the hospital file must be loaded before it anyway.
    write(join(src, 'Aaa_patient.json'), syntheaPatient);
    write(join(src, 'hospitalInformation1.json'), hospitalInformation);
    write(join(src, 'b-collection.json'), collection);
    write(join(src, 'c-batch.json'), batch);
    write(join(src, 'nested', 'd-single-with-id.json'), { resourceType: 'Patient', id: 'single-1', name: [{ family: 'Loosename' }] });
    write(join(src, 'nested', 'e-single-without-id.json'), { resourceType: 'Patient', name: [{ family: 'Loosename' }] });
    write(join(src, 'f-lines.ndjson'), ndjson);
    write(join(src, 'g-malformed.json'), '{\n  "resourceType": "Patient",\n  "name": [{ "family": "Malformedfamilyxyz" }\n}\n');
    write(join(src, 'notes.txt'), 'not FHIR');

    const r = cli(['import', '--data', data, '--json', src]);
    assert.equal(r.status, 1, r.stderr);
    assertNoPhi(r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as ImportReport;
    assert.equal(report.files, 8);
    assert.equal(report.skipped, 1);
    // 1 organization + 3 patient-bundle + 3 collection + 2 batch + 2 single + 4 NDJSON (nd-3 twice)
    assert.equal(report.resources, 15);
    assert.equal(report.failed, 6);
    assert.equal(report.existing, 0);
    assert.ok(report.seconds > 0 && report.resourcesPerSecond > 0);
    const at = (file: string): string => join(src, file);
    const places = report.errors.map((e) => ({ file: e.file, line: e.line, entry: e.entry, code: e.code }));
    assert.deepEqual(places, [
      { file: at('c-batch.json'), line: undefined, entry: 1, code: 'ERR_INVALID_RESOURCE' },
      { file: at('c-batch.json'), line: undefined, entry: 2, code: 'ERR_BAD_REQUEST' },
      { file: at('c-batch.json'), line: undefined, entry: 4, code: 'ERR_BAD_REQUEST' },
      { file: at('f-lines.ndjson'), line: 2, entry: undefined, code: 'ERR_BAD_REQUEST' },
      { file: at('f-lines.ndjson'), line: 4, entry: undefined, code: 'ERR_INVALID_RESOURCE' },
      { file: at('g-malformed.json'), line: 4, entry: undefined, code: 'ERR_BAD_REQUEST' },
    ]);
    assert.equal(report.errors[0]?.message, 'The resource is not valid FHIR R4 (Bundle.entry[1].resource.gender: Code is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender)');
    assert.equal(report.errors[1]?.message, 'request.method and request.url are required');
    assert.equal(report.errors[2]?.message, 'The entry is not a JSON object');
    assert.equal(report.errors[3]?.message, 'The line is not valid JSON: unexpected end of input at column 62');
    assert.equal(report.errors[4]?.message, 'The resource is not valid FHIR R4 (Patient.birthDate: Invalid date format)');
    assert.equal(report.errors[5]?.message, "The file is not valid JSON: expected ',' or ']' at column 1");

    const human = cli(['import', '--data', data, join(src, 'g-malformed.json'), join(src, 'f-lines.ndjson')]);
    assert.equal(human.status, 1);
    assertNoPhi(human.stdout + human.stderr);
    assert.match(human.stdout, /g-malformed\.json:4: ERR_BAD_REQUEST The file is not valid JSON/);
    assert.match(human.stdout, /f-lines\.ndjson:2: ERR_BAD_REQUEST/);
    assert.match(human.stdout, /imported 4 resources from 2 files in [\d.]+ s \(\d+ resources\/s\); 3 failed/);
    assert.match(human.stderr, /import \[/, 'the progress bar is on stderr');
    // The conditional create finds the Organization stored by the first run, and stores nothing.
    const again = cli(['import', '--data', data, '--json', join(src, 'hospitalInformation1.json')]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual({ ...(JSON.parse(again.stdout) as ImportReport), seconds: 0, resourcesPerSecond: 0 }, {
      files: 1, skipped: 0, resources: 0, existing: 1, failed: 0, errors: [], seconds: 0, resourcesPerSecond: 0,
    });

    const vigil = await openVigil(loadConfig({}, { dataDir: data }));
    try {
      // The transaction's urn:uuid and conditional references point at the new ids.
      const [patient] = await search(vigil, 'Patient', [['family', 'Qopfamily']]);
      const [org] = await search(vigil, 'Organization', [['identifier', 'https://github.com/synthetichealth/synthea|org-1']]);
      const [encounter] = await search(vigil, 'Encounter', [['subject', `Patient/${patient?.id ?? ''}`]]);
      const [obs] = await search(vigil, 'Observation', [['code', 'http://loinc.org|8302-2']]);
      assert.ok(patient?.id !== undefined && org?.id !== undefined && encounter?.id !== undefined);
      const o = obs as { subject?: { reference?: string }; encounter?: { reference?: string } };
      assert.equal(o.subject?.reference, `Patient/${patient.id}`);
      assert.equal(o.encounter?.reference, `Encounter/${encounter.id}`);
      assert.equal((encounter as { serviceProvider?: { reference?: string } }).serviceProvider?.reference, `Organization/${org.id}`);
      // The collection's urn:uuid entries got ids and still point at one another; ids were kept (PUT).
      const collected = await search(vigil, 'Patient', [['family', 'Collectname']]);
      assert.equal(collected.length, 2);
      const fresh = collected.find((p) => p.id !== 'coll-2');
      const [weight] = await search(vigil, 'Observation', [['subject', `Patient/${fresh?.id ?? ''}`]]);
      assert.ok(weight !== undefined, 'the collection Observation references its Patient by its new id');
      // Single resources: with an id kept (PUT), without one given a new id (POST).
      assert.equal(JSON.parse((await vigil.repository.read('Patient', 'single-1')).json).name[0].family, 'Loosename');
      assert.equal((await search(vigil, 'Patient', [['family', 'Loosename']])).length, 2);
      // Batch: the good entries stored, the bad ones not.
      assert.equal((await search(vigil, 'Patient', [['family', 'Batchsecret']])).length, 2);
      // NDJSON: the lines around the bad ones were stored; nd-3 written twice (two versions, twice imported).
      assert.equal((await vigil.repository.read('Patient', 'nd-1')).versionId, 2);
      await assert.rejects(vigil.repository.read('Patient', 'nd-2'), { code: 'ERR_NOT_FOUND' });
      const nd3 = await vigil.repository.read('Patient', 'nd-3');
      assert.equal(nd3.versionId, 4);
      assert.equal(JSON.parse(nd3.json).gender, 'male');
    } finally {
      await vigil.close();
    }
  });

  it('leaves nothing of a transaction whose last entry is invalid, and names the entry', async () => {
    const data = await newDataDir(root, 'rollback');
    const file = join(root, 'rollback', 'tx.json');
    write(file, failingTransaction);
    const before = countVersions(data);
    const r = cli(['import', '--data', data, '--json', file]);
    assert.equal(r.status, 1);
    assertNoPhi(r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as ImportReport;
    assert.equal(report.resources, 0);
    assert.equal(report.failed, 1);
    assert.deepEqual(report.errors, [
      { file, entry: 3, code: 'ERR_INVALID_RESOURCE', message: 'The resource is not valid FHIR R4 (Bundle.entry[3].resource.status: Code is not in the required value set http://hl7.org/fhir/ValueSet/observation-status)' },
    ]);
    assert.equal(countVersions(data), before, 'no version of any entry was stored');
    const vigil = await openVigil(loadConfig({}, { dataDir: data }));
    try {
      assert.deepEqual(await search(vigil, 'Patient', [['family', 'Rollbackname']]), []);
      await assert.rejects(vigil.repository.read('Patient', 'rollback-put'), { code: 'ERR_NOT_FOUND' });
    } finally {
      await vigil.close();
    }
  });

  it('stops at the first failure with --strict, keeping what was stored before it', async () => {
    const data = await newDataDir(root, 'strict');
    const dir = join(root, 'strict-src');
    write(join(dir, 'a.ndjson'), ndjson);
    write(join(dir, 'b.json'), { resourceType: 'Patient', id: 'after-the-failure' });
    const r = cli(['import', '--data', data, '--json', '--strict', dir]);
    assert.equal(r.status, 1);
    const report = JSON.parse(r.stdout) as ImportReport;
    assert.equal(report.stopped, true);
    assert.equal(report.resources, 1);
    assert.equal(report.failed, 1);
    assert.equal(report.errors[0]?.line, 2);
    const vigil = await openVigil(loadConfig({}, { dataDir: data }));
    try {
      assert.equal((await vigil.repository.read('Patient', 'nd-1')).versionId, 1);
      await assert.rejects(vigil.repository.read('Patient', 'nd-3'), { code: 'ERR_NOT_FOUND' });
      await assert.rejects(vigil.repository.read('Patient', 'after-the-failure'), { code: 'ERR_NOT_FOUND' });
    } finally {
      await vigil.close();
    }
    const clean = cli(['import', '--data', data, '--strict', join(dir, 'b.json')]);
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stdout, /imported 1 resources from 1 files .*; 0 failed/);
  });

  it('stores a folder\'s files in order: a Bundle finds what the file before it created, and failures are reported once, in file order', async () => {
    const data = await newDataDir(root, 'in-flight');
    const dir = join(root, 'in-flight-src');
    const org = { system: 'https://vigil.example/sid/org', value: 'in-flight-1' };
    const observation = (status: string) => post('urn:uuid:99999999-9999-4999-8999-999999999999', { resourceType: 'Observation', status, code: { text: 'x' } });
    write(join(dir, 'a-org.json'), { resourceType: 'Bundle', type: 'transaction', entry: [post('urn:uuid:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', { resourceType: 'Organization', identifier: [org], name: 'In flight' })] });
    write(join(dir, 'b-needs-org.json'), {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        post('urn:uuid:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', { resourceType: 'Patient', managingOrganization: { reference: `Organization?identifier=${org.system}|${org.value}` } }),
        observation('final'),
      ],
    });
    write(join(dir, 'c-bad.json'), { resourceType: 'Bundle', type: 'transaction', entry: [observation('final'), observation('not-a-status')] });
    write(join(dir, 'd-ok.json'), { resourceType: 'Bundle', type: 'transaction', entry: [observation('final')] });
    write(join(dir, 'e-bad.json'), { resourceType: 'Bundle', type: 'transaction', entry: [observation('not-a-status-either')] });
    write(join(dir, 'f-ok.json'), { resourceType: 'Bundle', type: 'transaction', entry: [observation('final'), observation('amended')] });
    const r = cli(['import', '--data', data, '--json', '--workers', '1', dir]);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as ImportReport;
    assert.equal(report.files, 6);
    assert.equal(report.resources, 1 + 2 + 1 + 2);
    assert.equal(report.failed, 2);
    assert.deepEqual(report.errors.map((e) => [e.file, e.entry, e.code]), [
      [join(dir, 'c-bad.json'), 1, 'ERR_INVALID_RESOURCE'],
      [join(dir, 'e-bad.json'), 0, 'ERR_INVALID_RESOURCE'],
    ]);
    const vigil = await openVigil(loadConfig({}, { dataDir: data }));
    try {
      const [stored] = await search(vigil, 'Organization', [['identifier', `${org.system}|${org.value}`]]);
      const patients = await search(vigil, 'Patient', [['organization', `Organization/${stored?.id ?? ''}`]]);
      assert.equal(patients.length, 1, 'the conditional reference found the Organization of the file before');
      assert.equal((await search(vigil, 'Observation', [['status', 'final,amended']])).length, 4, 'nothing of the failed Bundles was stored');
    } finally {
      await vigil.close();
    }
  });

  it('stores a batch\'s entries side by side, each on its own: conditions find one another, a repeated target is written in order, failures stay in entry order', async () => {
    const data = await newDataDir(root, 'batch-window');
    const file = join(root, 'batch-window', 'batch.json');
    const system = 'https://vigil.example/sid/org';
    const org = (value: string, ifNoneExist = `identifier=${system}|${value}`): Record<string, unknown> => ({
      resource: { resourceType: 'Organization', identifier: [{ system, value }], name: `Org ${value}` },
      request: { method: 'POST', url: 'Organization', ifNoneExist },
    });
    const putPatient = (gender: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({
      resource: { resourceType: 'Patient', id: 'batch-twice', gender, ...more },
      request: { method: 'PUT', url: 'Patient/batch-twice' },
    });
    const invalid = { resource: { resourceType: 'Patient', gender: 'Invalidgenderphi' }, request: { method: 'POST', url: 'Patient' } };
    write(file, {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        // The same condition twice: the second waits for the first, and finds it.
        org('dup-a'),
        org('dup-a'),
        // Two conditions that match one Organization, sent together: one creates, the other is
        // planned again once the first is stored, and finds it.
        org('dup-b'),
        org('dup-b', `identifier=${system}|dup-b&name=Org`),
        // A conditional reference to what the entry before it creates: it finds it.
        org('ref-target'),
        putPatient('male', { managingOrganization: { reference: `Organization?identifier=${system}|ref-target` } }),
        // The same target again: written after the entry before, though that one took longer to
        // plan (its reference was looked up).
        putPatient('female'),
        null,
        invalid,
        // More than one window's worth, the last 50 naming Organizations of the first 150.
        ...Array.from({ length: 200 }, (_, k) => org(`org-${k % 150}`)),
        invalid,
      ],
    });
    const r = cli(['import', '--data', data, '--json', file]);
    assert.equal(r.status, 1, r.stderr);
    assertNoPhi(r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as ImportReport;
    assert.equal(report.resources, 1 + 1 + 1 + 2 + 150);
    assert.equal(report.existing, 1 + 1 + 50);
    assert.deepEqual(report.errors.map((e) => [e.entry, e.code]), [
      [7, 'ERR_BAD_REQUEST'],
      [8, 'ERR_INVALID_RESOURCE'],
      [209, 'ERR_INVALID_RESOURCE'],
    ]);
    const vigil = await openVigil(loadConfig({}, { dataDir: data }));
    try {
      assert.equal((await search(vigil, 'Organization', [['identifier', `${system}|dup-a`]])).length, 1);
      assert.equal((await search(vigil, 'Organization', [['identifier', `${system}|dup-b`]])).length, 1);
      assert.equal((await search(vigil, 'Organization', [['identifier', `${system}|org-0,${system}|org-49,${system}|org-149`]])).length, 3);
      assert.equal((await vigil.repository.search(parseSearch('Organization', [['_summary', 'count']], false))).total, 153);
      const twice = await vigil.repository.read('Patient', 'batch-twice');
      assert.equal(twice.versionId, 2);
      assert.equal(JSON.parse(twice.json).gender, 'female', 'the later entry was written last');
      const [target] = await search(vigil, 'Organization', [['identifier', `${system}|ref-target`]]);
      const first = await vigil.repository.vread('Patient', 'batch-twice', 1);
      assert.equal(JSON.parse(first.json).managingOrganization.reference, `Organization/${target?.id ?? ''}`);
    } finally {
      await vigil.close();
    }
  });

  it('exits 2 for bad arguments: a missing path, no path, an unknown option, a folder without a store', async () => {
    const data = await newDataDir(root, 'args');
    const missing = cli(['import', '--data', data, join(root, 'no-such-file.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file or folder: .*no-such-file\.json/);
    assert.equal(cli(['import', '--data', data]).status, 2);
    assert.equal(cli(['import', '--data', data, '--frobnicate', root]).status, 2);
    const empty = mkdtempSync(join(root, 'empty-'));
    const nostore = cli(['import', '--data', empty, root]);
    assert.equal(nostore.status, 2);
    assert.match(nostore.stderr, /No Vigil data directory/);
    const help = cli(['import', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /hospitalInformation\*\.json, then practitionerInformation\*\.json \(and vigil generate's\s+organizations-practitioners\.json\) come first/);
  });

  it('imports while the server runs, and the server serves what was imported', async () => {
    const data = await newDataDir(root, 'served');
    const server = await serve(data);
    try {
      const file = join(root, 'served-src', 'patients.ndjson');
      const lines = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `srv-${i}`, name: [{ family: 'Servername' }] }));
      write(file, lines.join('\n') + '\n');
      const r = cli(['import', '--data', data, '--json', file]);
      assert.equal(r.status, 0, r.stderr);
      assertNoPhi(r.stdout + r.stderr);
      assert.equal((JSON.parse(r.stdout) as ImportReport).resources, 1200);
      const token = await tokenFor(server.base, data);
      const read = await fetch(`${server.base}/fhir/Patient/srv-1199`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(read.status, 200);
      const found = await fetch(`${server.base}/fhir/Patient?family=Servername&_summary=count`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(found.status, 200);
      assert.equal(((await found.json()) as { total?: number }).total, 1200);
    } finally {
      await stop(server);
    }
  });
});

/** Starts `vigil serve --port 0` on a data directory (shared helper, this build's main.js). */
const serve = (dataDir: string): Promise<Served> => serveWith(MAIN, dataDir);
