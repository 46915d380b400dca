#!/usr/bin/env node
// The `vigil` command: the compiled CLI lives in dist/ (built by `npm start`, `npm test` or `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('vigil: not built yet; run `npm start`, `npm test` or `npm run build` first');
  process.exit(1);
}
await import(main.href);
