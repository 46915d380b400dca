import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestVigil, syntheticPatient } from '../testing/harness.js';

/** Every file under a directory, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The identifying strings of a synthetic patient, as a thief would grep for them. */
function identifying(tag: string): string[] {
  return [`Family${tag}`, `Given${tag}`, `MRN${tag}`, `SSN${tag}`, `Phone${tag}`, `mail${tag}@example.org`, `Street${tag}`, `City${tag}`, `Zip${tag}`, `Narrative${tag}`, tag];
}

function findings(dir: string, needles: string[]): string[] {
  const found: string[] = [];
  for (const file of files(dir)) {
    const bytes = readFileSync(file);
    for (const needle of needles) {
      for (const encoding of ['utf8', 'utf16le'] as const) {
        if (bytes.includes(Buffer.from(needle, encoding))) found.push(`${needle} (${encoding}) in ${file}`);
      }
    }
  }
  return found;
}

describe('a stolen data directory reveals no identifier', () => {
  it('holds no name, identifier, telecom, address, birth date or narrative in any file, WAL included', async () => {
    const t = await startTestVigil();
    try {
      const tags = Array.from({ length: 25 }, () => `Q${randomBytes(6).toString('hex')}`);
      const birthDates = tags.map((_, i) => `18${String(10 + i)}-0${(i % 9) + 1}-1${i % 10}`);
      const ids: string[] = [];
      for (const [i, tag] of tags.entries()) {
        const res = await t.fhir('POST', '/fhir/Patient', { body: { ...syntheticPatient(tag), birthDate: birthDates[i] } });
        assert.equal(res.statusCode, 201);
        const id = String(JSON.parse(res.body).id);
        ids.push(id);
        const obs = await t.fhir('POST', '/fhir/Observation', {
          body: { resourceType: 'Observation', status: 'final', code: { text: `Note${tag}` }, subject: { reference: `Patient/${id}` }, valueString: `Value${tag}` },
        });
        assert.equal(obs.statusCode, 201);
      }
      // Updates and deletions leave older versions behind; those must be sealed too.
      await t.fhir('PUT', `/fhir/Patient/${ids[0]}`, { body: { ...syntheticPatient(tags[0] ?? ''), id: ids[0], gender: 'male', birthDate: birthDates[0] } });
      await t.fhir('DELETE', `/fhir/Patient/${ids[1]}`);
      // Invalid input that mentions a patient must not leave traces either (it is refused, not stored or logged).
      const leakTag = `Q${randomBytes(6).toString('hex')}`;
      await t.fhir('POST', '/fhir/Patient', { body: { resourceType: 'Patient', name: [{ family: `Family${leakTag}`, given: `Given${leakTag}` }] } });

      const needles = [...tags.flatMap(identifying), ...tags.map((tag) => `Note${tag}`), ...tags.map((tag) => `Value${tag}`), ...birthDates, ...identifying(leakTag)];
      assert.deepEqual(findings(t.dir, needles), [], 'before checkpoint (data still in the WAL)');
      assert.ok(
        !t.logs.join('').match(/Family|Given|MRN|Phone|Street|Narrative|Note|Value/),
        'the logs hold no record content',
      );
      // Control: the scan does see what is stored in plaintext (resource ids), so a miss above is real.
      assert.ok(findings(t.dir, [ids[2] ?? 'x']).length > 0, 'control: ids are stored in plaintext and the scan finds them');

      await t.vigil.store.close();
      assert.deepEqual(findings(t.dir, needles), [], 'after the WAL is checkpointed into the main file');
    } finally {
      await t.app.close();
      const { rmSync } = await import('node:fs');
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});
