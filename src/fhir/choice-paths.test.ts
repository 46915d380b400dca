import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { concretePath } from './choice-paths.js';
import { loadDefinitions } from './definitions.js';

loadDefinitions();

describe('concretePath', () => {
  const obs = {
    resourceType: 'Observation',
    valueQuantity: { value: 1 },
    component: [{ valueString: 'a' }, { _valueDateTime: { id: 'x' } }],
    extension: [{ url: 'http://example.org', valueCoding: { code: 'c' } }],
  };

  it('names each [x] by the property present', () => {
    assert.equal(concretePath(obs, 'Observation.value[x].value'), 'Observation.valueQuantity.value');
    assert.equal(concretePath(obs, 'Observation.component[0].value[x]'), 'Observation.component[0].valueString');
    assert.equal(concretePath(obs, 'Observation.component[1].value[x]'), 'Observation.component[1].valueDateTime');
    assert.equal(concretePath(obs, 'Observation.extension[0].value[x].code'), 'Observation.extension[0].valueCoding.code');
  });

  it('picks the first type in definition order when two are present, as Medplum does', () => {
    assert.equal(concretePath({ resourceType: 'Patient', deceasedDateTime: 'x', deceasedBoolean: true }, 'Patient.deceased[x]'), 'Patient.deceasedBoolean');
  });

  it('follows contained and bundled resources', () => {
    const bundle = { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', multipleBirthInteger: 2 } }] };
    assert.equal(concretePath(bundle, 'Bundle.entry[0].resource.multipleBirth[x]'), 'Bundle.entry[0].resource.multipleBirthInteger');
  });

  it('gives up on a path it cannot follow', () => {
    for (const path of ['Observation.effective[x]', 'Patient.value[x]', 'Observation.nothing.value[x]', 'Observation.component[7].value[x]', 'Observation.constructor[x]', 'Observation.component.constructor.value[x]']) {
      assert.equal(concretePath(obs, path), undefined, path);
    }
    assert.equal(concretePath({ resourceType: 'HumanName' }, 'HumanName.value[x]'), undefined);
  });
});
