import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A `vigil serve` child process for end-to-end tests over a real socket. */
export interface Served {
  readonly child: ChildProcess;
  /** e.g. `http://127.0.0.1:41234` */
  readonly base: string;
  /** Every line the server printed so far. */
  readonly lines: string[];
}

/** The environment without the caller's VIGIL_* variables, plus the given ones. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VIGIL_')));
  return { ...clean, VIGIL_LOG_LEVEL: 'info', ...extra };
}

/** Starts `<main> serve --port 0 --data dataDir` and waits for its "serving" log line. */
export function serve(main: string, dataDir: string, extraEnv: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--data', dataDir], { env: cleanEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${lines.join('\n')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${lines.join('\n')}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      lines.push(line);
      const msg = JSON.parse(line) as { msg?: string; address?: string };
      if (msg.msg === 'vigil is serving FHIR R4' && msg.address !== undefined) {
        clearTimeout(timer);
        resolve({ child, base: msg.address, lines });
      }
    });
  });
}

/** Stops a served child with SIGTERM and resolves with its exit code. */
export function stop(server: Served): Promise<number | null> {
  if (server.child.exitCode !== null) return Promise.resolve(server.child.exitCode);
  return new Promise((resolve) => {
    server.child.once('exit', (code) => resolve(code));
    server.child.kill('SIGTERM');
  });
}

/** A token for the bootstrap admin of a data directory, over HTTP. */
export async function tokenFor(base: string, dataDir: string): Promise<string> {
  const admin = JSON.parse(readFileSync(join(dataDir, 'bootstrap-admin.json'), 'utf8')) as { client_id: string; client_secret: string };
  const res = await fetch(`${base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${admin.client_id}:${admin.client_secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}
