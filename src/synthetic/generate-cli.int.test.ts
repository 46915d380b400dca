import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';
import { PROVIDERS_FILE, generateDataset } from './index.js';

/** The repository root: the nearest folder above this file with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/**
 * The CLI of the build this test belongs to. From dist/ that is `bin/vigil.js`, the real entry
 * point; from any other build folder, that build's own main.js.
 */
function entryPoint(): string {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const root = repoRoot();
  return main === join(root, 'dist', 'src', 'cli', 'main.js') ? join(root, 'bin', 'vigil.js') : main;
}

const ENTRY = entryPoint();
const TMP = mkdtempSync(join(tmpdir(), 'vigil-generate-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

function vigil(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ENTRY, 'generate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Summary {
  patients: number;
  files: number;
  resources: number;
  byType: Record<string, number>;
  seconds: number;
}

describe('vigil generate', () => {
  const out = join(TMP, 'new', 'nested');

  it('creates --out, writes the bundles and prints the JSON summary', () => {
    const r = vigil(['--patients', '3', '--seed', '11', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary;
    assert.deepEqual(Object.keys(summary), ['patients', 'files', 'resources', 'byType', 'seconds']);
    assert.equal(summary.patients, 3);
    assert.equal(summary.files, 4);
    assert.ok(summary.seconds >= 0);
    assert.deepEqual(readdirSync(out).sort(), [PROVIDERS_FILE, 'patient-000001.json', 'patient-000002.json', 'patient-000003.json']);

    const counts: Record<string, number> = {};
    let total = 0;
    for (const name of readdirSync(out)) {
      const bundle = JSON.parse(readFileSync(join(out, name), 'utf8')) as Bundle;
      assert.equal(bundle.type, 'transaction');
      for (const e of bundle.entry ?? []) {
        const type = e.resource?.resourceType ?? '';
        counts[type] = (counts[type] ?? 0) + 1;
        total++;
      }
    }
    assert.equal(summary.resources, total);
    assert.deepEqual(summary.byType, counts);
    assert.equal(summary.byType['Patient'], 3);
    assert.match(r.stderr, /generate \[/, 'a progress bar on stderr');
  });

  it('writes exactly what the library generates for the same seed, byte for byte', () => {
    for (const file of generateDataset({ patients: 3, seed: '11' })) {
      assert.equal(readFileSync(join(out, file.name), 'utf8'), `${JSON.stringify(file.bundle)}\n`, file.name);
    }
  });

  it('refuses to overwrite an earlier run without --force, and replaces it with --force', () => {
    const victim = join(out, 'patient-000002.json');
    writeFileSync(victim, 'edited by hand');
    writeFileSync(join(out, 'notes.txt'), 'not ours');
    const refused = vigil(['--patients', '3', '--seed', '11', '--out', out]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /refusing to overwrite 4 existing file\(s\) in .*; pass --force to replace them/);
    assert.equal(refused.stdout, '');
    assert.equal(readFileSync(victim, 'utf8'), 'edited by hand');

    const forced = vigil(['--patients', '3', '--seed', '11', '--out', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /^wrote 4 files to .*: \d+ resources \(\d+\.\d per patient\) in [\d.]+ s, \d+ resources\/s\n/);
    assert.match(forced.stdout, /\n {2}Patient +3\n/);
    assert.notEqual(readFileSync(victim, 'utf8'), 'edited by hand');
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'not ours', 'other files are left alone');
  });

  it('does not count files of other runs as clashes', () => {
    const r = vigil(['--patients', '1', '--seed', '11', '--out', join(TMP, 'other'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(join(TMP, 'other', 'patient-000002.json'), 'a larger earlier run');
    const again = vigil(['--patients', '1', '--seed', '12', '--out', join(TMP, 'other'), '--json']);
    assert.equal(again.status, 1, 'the providers file still clashes');
  });

  it('exits 2 on bad arguments and writes nothing', () => {
    const file = join(TMP, 'a-file');
    writeFileSync(file, '');
    const cases: [string[], RegExp][] = [
      [['--patients', '0', '--out', join(TMP, 'bad')], /argument '0' is invalid\. expected a whole number from 1 to 10000000/],
      [['--patients', '2.5', '--out', join(TMP, 'bad')], /expected a whole number/],
      [['--patients', 'many', '--out', join(TMP, 'bad')], /expected a whole number/],
      [['--patients', '99999999', '--out', join(TMP, 'bad')], /expected a whole number/],
      [['--patients', '2', '--seed', 'two words', '--out', join(TMP, 'bad')], /expected 1 to 200 printable ASCII characters/],
      [['--patients', '2'], /required option '--out <dir>' not specified/],
      [['--out', join(TMP, 'bad')], /required option '--patients <n>' not specified/],
      [['--patients', '2', '--out', join(TMP, 'bad'), '--frobnicate'], /unknown option '--frobnicate'/],
      [['--patients', '2', '--out', file], /is not a directory/],
    ];
    for (const [args, message] of cases) {
      const r = vigil(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    assert.equal(existsSync(join(TMP, 'bad')), false);
  });
});
