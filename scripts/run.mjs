#!/usr/bin/env node
// The one entry point behind `npm start`, `npm test` and `npm run bench`: it installs the
// dependencies when they are missing or stale, compiles the TypeScript when a source is newer than
// the last build, then runs the asked-for action. Only node: built-ins are used here, because it
// runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const action = process.argv[2] ?? 'start';
const rest = process.argv.slice(3);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) {
    console.error(`vigil: could not run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  return r.status ?? 1;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(dir, test) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(p, test));
    else if (test(entry.name)) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

function ensureInstalled() {
  const stamp = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(stamp) && mtime(stamp) >= mtime(lock) && mtime(stamp) >= mtime(join(root, 'package.json'))) return;
  console.error('vigil: installing dependencies ...');
  const args = existsSync(stamp) || !existsSync(lock) ? ['install'] : ['ci'];
  if (run('npm', [...args, '--no-audit', '--no-fund']) !== 0) process.exit(1);
}

function ensureBuilt() {
  const stamp = join(root, 'dist', '.build-stamp');
  const newestSource = Math.max(
    newestIn(join(root, 'src'), (n) => n.endsWith('.ts')),
    newestIn(join(root, 'bench'), (n) => n.endsWith('.ts')),
    mtime(join(root, 'tsconfig.json')),
  );
  if (existsSync(stamp) && mtime(stamp) >= newestSource) return;
  console.error('vigil: building ...');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (run(process.execPath, [tsc, '-p', 'tsconfig.json']) !== 0) process.exit(1);
  run(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(stamp)}, '')`]);
}

function testFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.js')) out.push(relative(root, p));
  }
  return out.sort();
}

ensureInstalled();
ensureBuilt();

const cli = join(root, 'dist', 'src', 'cli', 'main.js');
switch (action) {
  case 'build':
    break;
  case 'start':
    process.exit(run(process.execPath, [cli, 'serve', ...rest]));
    break;
  case 'test': {
    const files = rest.length > 0 ? rest : testFiles(join(root, 'dist', 'src'));
    process.exit(run(process.execPath, ['--test', '--test-concurrency=2', ...files], { env: { ...process.env, VIGIL_LOG_LEVEL: process.env.VIGIL_LOG_LEVEL ?? 'silent' } }));
    break;
  }
  case 'bench':
    process.exit(run(process.execPath, [join(root, 'dist', 'bench', 'bench.js'), ...rest]));
    break;
  default:
    console.error(`vigil: unknown action ${action} (start, test, bench, build)`);
    process.exit(2);
}
