import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ERROR_CODES, OAuthError, VigilError, isVigilError, type ErrorCode } from './errors.js';
import { errorOutcome } from './fhir/outcome.js';
import { STATUS } from './http/errors.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** The repository root: the nearest folder above this file holding a package.json (works from src/, dist/ or any build dir). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'docs'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json with a docs folder above this test');
    dir = up;
  }
}

interface DocRow {
  readonly code: string;
  readonly status: string;
  readonly issue: string;
  readonly when: string;
}

/** The rows of the table in docs/errors.md whose first cell is a code. */
function docRows(): DocRow[] {
  const text = readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8');
  const rows: DocRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // `| a | b |` splits into ['', 'a', 'b', '']
    const first = cells[1]?.replace(/`/g, '');
    if (!line.trim().startsWith('|') || first === undefined || !/^ERR_[A-Z_]+$/.test(first)) continue;
    rows.push({ code: first, status: cells[2] ?? '', issue: (cells[3] ?? '').replace(/`/g, ''), when: cells[4] ?? '' });
  }
  return rows;
}

describe('error codes and docs/errors.md stay in step', () => {
  const rows = docRows();
  const byCode = new Map(rows.map((r) => [r.code, r]));

  it('the docs table has rows', () => {
    assert.ok(rows.length > 0, 'no ERR_ rows found in docs/errors.md');
  });

  for (const code of CODES) {
    it(`${code} is documented with its HTTP status, FHIR issue code and when it happens`, () => {
      const row = byCode.get(code);
      assert.ok(row !== undefined, `${code} is missing from docs/errors.md`);
      assert.equal(row.status, String(STATUS[code]), `${code}: HTTP status in docs/errors.md`);
      assert.equal(row.issue, errorOutcome(code, 'x').issue?.[0]?.code, `${code}: FHIR issue code in docs/errors.md`);
      assert.ok(row.when.length >= 10, `${code}: say when it happens`);
    });
  }

  it('documents each code exactly once, and no code that does not exist', () => {
    const seen = rows.map((r) => r.code);
    assert.equal(new Set(seen).size, seen.length, `duplicate rows: ${seen.join(', ')}`);
    for (const code of seen) assert.ok(code in ERROR_CODES, `docs/errors.md lists ${code}, which is not in ERROR_CODES`);
  });
});

describe('error codes and the HTTP layer stay in step', () => {
  it('every code has a status in STATUS, and STATUS has no other keys', () => {
    for (const code of CODES) assert.equal(typeof STATUS[code], 'number', `${code} has no HTTP status`);
    assert.deepEqual(Object.keys(STATUS).sort(), [...CODES].sort());
  });

  it('every status is a client or server error status', () => {
    for (const code of CODES) {
      const s = STATUS[code];
      assert.ok(Number.isInteger(s) && s >= 400 && s <= 599, `${code}: ${s}`);
    }
  });

  it('security-sensitive codes keep their statuses', () => {
    // A change here changes what a client can learn (401 vs 403 vs 404), so it must be deliberate.
    assert.equal(STATUS.ERR_UNAUTHENTICATED, 401);
    assert.equal(STATUS.ERR_SCOPE, 403);
    assert.equal(STATUS.ERR_NOT_FOUND, 404);
    assert.equal(STATUS.ERR_INTEGRITY, 500);
    assert.equal(STATUS.ERR_KEY, 500);
  });

  it('every code maps to a FHIR issue code in an OperationOutcome', () => {
    for (const code of CODES) {
      const outcome = errorOutcome(code, 'message');
      assert.equal(outcome.resourceType, 'OperationOutcome');
      const issue = outcome.issue?.[0];
      assert.ok(issue !== undefined);
      assert.equal(typeof issue.code, 'string', code);
      assert.ok(issue.code.length > 0, code);
      assert.equal(issue.severity, 'error');
      assert.equal(issue.diagnostics, code);
      assert.equal(issue.details?.text, 'message');
    }
  });

  it('an OperationOutcome has one issue per problem, each with its path', () => {
    const outcome = errorOutcome('ERR_INVALID_RESOURCE', 'invalid', [{ message: 'a', path: 'Patient.active' }, { message: 'b' }]);
    assert.equal(outcome.issue?.length, 2);
    assert.deepEqual(outcome.issue?.[0]?.expression, ['Patient.active']);
    assert.equal(outcome.issue?.[1]?.expression, undefined);
    assert.equal(outcome.issue?.[1]?.details?.text, 'b');
  });
});

describe('VigilError', () => {
  it('carries its code, a default message from ERROR_CODES, and no issues', () => {
    for (const code of CODES) {
      const err = new VigilError(code);
      assert.equal(err.code, code);
      assert.equal(err.message, ERROR_CODES[code]);
      assert.equal(err.name, 'VigilError');
      assert.deepEqual(err.issues, []);
      assert.equal(err.cause, undefined);
      assert.ok(err instanceof Error);
      assert.ok(isVigilError(err));
    }
  });

  it('keeps a given message, cause and issues', () => {
    const cause = new Error('inner');
    const err = new VigilError('ERR_NOT_FOUND', 'Patient/1 is not known', { cause, issues: [{ message: 'm', path: 'p' }] });
    assert.equal(err.message, 'Patient/1 is not known');
    assert.equal(err.cause, cause);
    assert.deepEqual(err.issues, [{ message: 'm', path: 'p' }]);
  });

  it('isVigilError is false for other errors and non-errors', () => {
    for (const v of [new Error('x'), { code: 'ERR_NOT_FOUND', message: 'x' }, 'ERR_NOT_FOUND', null, undefined]) {
      assert.equal(isVigilError(v), false);
    }
  });

  it('OAuthError is an ERR_OAUTH VigilError with an RFC 6749 error and a 400 or 401 status', () => {
    const err = new OAuthError('invalid_client', 'Client authentication failed', 401);
    assert.ok(err instanceof VigilError);
    assert.equal(err.code, 'ERR_OAUTH');
    assert.equal(err.name, 'OAuthError');
    assert.equal(err.oauthError, 'invalid_client');
    assert.equal(err.status, 401);
    assert.equal(err.message, 'Client authentication failed');
    assert.equal(new OAuthError('invalid_scope', 'x').status, 400);
  });

  it('every default message is a sentence without placeholders', () => {
    for (const code of CODES) {
      const m = ERROR_CODES[code];
      assert.match(m, /^[A-Z]/, code);
      assert.doesNotMatch(m, /\$\{|%s|\{\}/, code);
    }
  });
});
