import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { locateJsonError } from './import-json-error.js';

describe('locateJsonError', () => {
  const cases: [name: string, text: string, line: number, column: number, reason: string][] = [
    ['missing closing brace', '{\n  "a": [1, 2]\n', 3, 1, 'unexpected end of input'],
    ['missing comma', '{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}'"],
    ['trailing comma', '{"a": [1, 2,]}', 1, 13, 'unexpected character'],
    ['single quotes', "{'secret': 1}", 1, 2, 'expected a property name'],
    ['missing colon', '{"a" 1}', 1, 6, "expected ':' after a property name"],
    ['unterminated string', '{"a": "Secretvalue', 1, 19, 'unterminated string'],
    ['raw newline in a string', '{"a": "x\ny"}', 1, 9, 'control character in a string'],
    ['bad escape', '{"a": "\\q"}', 1, 8, 'bad escape in a string'],
    ['bad unicode escape', '{"a": "\\u12G4"}', 1, 8, 'bad \\u escape'],
    ['junk after the value', '{"a": 1} Secretvalue', 1, 10, 'unexpected text after the JSON value'],
    ['bare word', '{"a": Secretvalue}', 1, 7, 'unexpected character'],
    ['leading zero', '[01]', 1, 3, "expected ',' or ']'"],
    ['empty text', '', 1, 1, 'unexpected end of input'],
  ];
  for (const [name, text, line, column, reason] of cases) {
    it(`finds ${name} by line and column, in words that quote nothing`, () => {
      assert.throws(() => JSON.parse(text));
      const place = locateJsonError(text);
      assert.deepEqual(place, { line, column, reason });
      assert.ok(!reason.includes('Secret'));
    });
  }

  it('finds nothing in valid JSON, and stops at absurd nesting without overflowing', () => {
    assert.equal(locateJsonError('{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n", {}]}'), undefined);
    assert.deepEqual(locateJsonError('['.repeat(5000)), { line: 1, column: 1002, reason: 'nesting too deep' });
  });
});
