import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { parseFormBody, parseJsonBody } from './json-body.js';

function badRequest(message: string): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof VigilError, 'a VigilError');
    assert.equal(err.code, 'ERR_BAD_REQUEST');
    assert.equal(err.message, message);
    return true;
  };
}

/** `depth` nested arrays around a number: `[[1]]` has depth 2. */
function arrays(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** `depth` nested objects: `{"a":{"a":1}}` has depth 2. */
function objects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const FORBIDDEN = 'The request body contains a forbidden key';

describe('parseJsonBody', () => {
  it('parses a FHIR resource', () => {
    const body = { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Ann'] }], active: true };
    assert.deepEqual(parseJsonBody(JSON.stringify(body), 64), body);
  });

  it('parses scalars at the top level', () => {
    assert.equal(parseJsonBody('1', 1), 1);
    assert.equal(parseJsonBody('"x"', 1), 'x');
    assert.equal(parseJsonBody('null', 1), null);
  });

  describe('depth limit', () => {
    for (const limit of [1, 2, 8, 64]) {
      it(`arrays: exactly ${limit} levels pass, ${limit + 1} fail`, () => {
        assert.doesNotThrow(() => parseJsonBody(arrays(limit), limit));
        assert.throws(() => parseJsonBody(arrays(limit + 1), limit), badRequest(`The request body nests deeper than ${limit} levels`));
      });
      it(`objects: exactly ${limit} levels pass, ${limit + 1} fail`, () => {
        assert.doesNotThrow(() => parseJsonBody(objects(limit), limit));
        assert.throws(() => parseJsonBody(objects(limit + 1), limit), badRequest(`The request body nests deeper than ${limit} levels`));
      });
    }

    it('counts mixed object/array nesting, and empty containers', () => {
      const atLimit = '{"a":[{"b":[{}]}]}'; // 5 levels, the innermost empty
      assert.doesNotThrow(() => parseJsonBody(atLimit, 5));
      assert.throws(() => parseJsonBody(atLimit, 4), badRequest('The request body nests deeper than 4 levels'));
      assert.throws(() => parseJsonBody('[[]]', 1), badRequest('The request body nests deeper than 1 levels'));
    });

    it('finds the deep branch among many shallow ones', () => {
      const body = JSON.stringify({ a: 1, b: [1, 2, 3], c: { d: 'x' }, e: [[[[[[[[[[1]]]]]]]]]], f: { g: 2 } });
      assert.throws(() => parseJsonBody(body, 8), badRequest('The request body nests deeper than 8 levels'));
      assert.doesNotThrow(() => parseJsonBody(body, 11));
    });

    it('refuses 1e6-deep nesting without crashing', () => {
      const deep = arrays(1_000_000);
      assert.throws(() => parseJsonBody(deep, 64), (err: unknown) => {
        assert.ok(err instanceof VigilError);
        assert.equal(err.code, 'ERR_BAD_REQUEST');
        assert.ok(
          err.message === 'The request body nests deeper than 64 levels' || err.message === 'The request body is not valid JSON',
          err.message,
        );
        return true;
      });
      const deepObjects = objects(1_000_000);
      assert.throws(() => parseJsonBody(deepObjects, 64), (err: unknown) => err instanceof VigilError && err.code === 'ERR_BAD_REQUEST');
    });
  });

  describe('forbidden keys', () => {
    const shapes: [string, string][] = [];
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      shapes.push(
        [`${key} at the top level`, `{"${key}":{"isAdmin":true}}`],
        [`${key} with a scalar value`, `{"resourceType":"Patient","${key}":1}`],
        [`${key} nested in an object`, `{"resourceType":"Patient","meta":{"${key}":{"x":1}}}`],
        [`${key} inside an array`, `{"resourceType":"Patient","name":[{"family":"A"},{"${key}":null}]}`],
        [`${key} deep down`, `{"a":[[{"b":{"c":[{"${key}":"x"}]}}]]}`],
        [`${key} in a top-level array`, `[{"${key}":1}]`],
      );
    }
    for (const [name, body] of shapes) {
      it(`refuses ${name}`, () => {
        assert.throws(() => parseJsonBody(body, 64), badRequest(FORBIDDEN));
      });
    }

    it('does not pollute Object.prototype', () => {
      assert.throws(() => parseJsonBody('{"__proto__":{"polluted":true}}', 64), badRequest(FORBIDDEN));
      assert.equal((({}) as Record<string, unknown>)['polluted'], undefined);
    });

    it('allows those words as values and as parts of longer keys', () => {
      const body = '{"resourceType":"Basic","code":{"text":"__proto__ constructor prototype"},"constructorName":1,"_prototype":2,"__proto":3}';
      assert.doesNotThrow(() => parseJsonBody(body, 64));
    });

    it('a forbidden key written with a unicode escape is refused too', () => {
      assert.throws(() => parseJsonBody('{"\\u005f_proto__":{}}', 64), badRequest(FORBIDDEN));
      assert.throws(() => parseJsonBody('{"constructo\\u0072":{}}', 64), badRequest(FORBIDDEN));
    });
  });

  describe('invalid JSON', () => {
    const cases: [string, string][] = [
      ['truncated', '{"resourceType":"Patient","name":[{"family":"Xylophonia"'],
      ['a stray token after a name', '{"resourceType":"Patient","name":[{"family":"Xylophonia"}]} Xylophonia'],
      ['an unquoted name', '{"resourceType":"Patient","name":[{"family":Xylophonia}]}'],
      ['single quotes', "{'family':'Xylophonia'}"],
      ['a trailing comma', '{"family":"Xylophonia",}'],
      ['the bare name', 'Xylophonia'],
      ['empty', ''],
      ['a byte-order mark', '\ufeff{"family":"Xylophonia"}'],
    ];
    for (const [name, body] of cases) {
      it(`refuses ${name} without quoting the body`, () => {
        assert.throws(
          () => parseJsonBody(body, 64),
          (err: unknown) => {
            assert.ok(err instanceof VigilError);
            assert.equal(err.code, 'ERR_BAD_REQUEST');
            assert.equal(err.message, 'The request body is not valid JSON');
            assert.equal(err.message.includes('Xylophonia'), false);
            assert.equal(err.cause, undefined, 'the parser error (which quotes the body) is not kept as cause');
            assert.equal(JSON.stringify(err.issues).includes('Xylophonia'), false);
            return true;
          },
        );
      });
    }
  });
});

describe('parseFormBody', () => {
  it('parses form fields, decoding + and %-escapes', () => {
    const form = parseFormBody('grant_type=client_credentials&scope=system%2FPatient.rs+system%2F*.read&client_id=a%20b');
    assert.deepEqual({ ...form }, { grant_type: 'client_credentials', scope: 'system/Patient.rs system/*.read', client_id: 'a b' });
  });

  it('gives an object without a prototype, so __proto__ is just a field', () => {
    const form = parseFormBody('__proto__=x&constructor=y');
    assert.equal(Object.getPrototypeOf(form), null);
    assert.equal(form['__proto__'], 'x');
    assert.equal(form['constructor'], 'y');
    assert.equal(form['toString'], undefined);
  });

  it('refuses a repeated field, without naming its value', () => {
    for (const body of ['a=1&a=2', 'client_secret=Xylophonia&client_secret=other', 'scope=&scope=', 'a=1&b=2&a=1', 'x&x', '%61=1&a=2']) {
      assert.throws(
        () => parseFormBody(body),
        (err: unknown) => {
          assert.ok(err instanceof VigilError);
          assert.equal(err.code, 'ERR_BAD_REQUEST');
          assert.equal(err.message, 'A form field is repeated');
          return true;
        },
        body,
      );
    }
  });

  it('treats field names case-sensitively and allows empty values', () => {
    assert.deepEqual({ ...parseFormBody('a=1&A=2&b=') }, { a: '1', A: '2', b: '' });
  });

  it('an empty body gives no fields', () => {
    assert.deepEqual(Object.keys(parseFormBody('')), []);
  });
});
