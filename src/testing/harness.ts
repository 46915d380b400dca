import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../config/index.js';
import { openVigil, type Vigil } from '../runtime/index.js';
import { buildApp, createLogger } from '../http/index.js';
import { ScopeSet } from '../auth/index.js';

/** A Vigil on a fresh temporary data directory, with its app ready for `inject()`. */
export interface TestVigil {
  readonly dir: string;
  readonly config: Config;
  readonly vigil: Vigil;
  readonly app: FastifyInstance;
  /** Every log line the app wrote, as text. */
  readonly logs: string[];
  /** A token with the given scopes (default `system/*.cruds`) and roles, issued by this server's token service. */
  token(scope?: string, roles?: string[]): Promise<string>;
  /**
   * A signed-in user, made directly (no browser): the user record, a session and an access token
   * with the given `user/` or `patient/` scopes (default `user/*.cruds`).
   */
  user(o: TestUserOptions): Promise<TestUser>;
  /** A FHIR request with a token and JSON body. */
  fhir(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestUserOptions {
  readonly roles: string[];
  readonly fhirUser?: string;
  readonly organizations?: string[];
  readonly clearances?: string[];
  readonly scope?: string;
  /** The launch context patient id. */
  readonly patient?: string;
}

export interface TestUser {
  readonly token: string;
  readonly userId: string;
  readonly sessionId: string;
}

export interface TestVigilOptions {
  readonly env?: Record<string, string>;
  readonly now?: () => Date;
}

export async function startTestVigil(options: TestVigilOptions = {}): Promise<TestVigil> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-test-'));
  const config = loadConfig({ VIGIL_LOG_LEVEL: 'info', ...options.env }, { dataDir: dir });
  const vigil = await openVigil(config, { create: true, ...(options.now === undefined ? {} : { now: options.now }) });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await buildApp(vigil, { logger: createLogger(config, sink) });
  let defaultToken: string | undefined;
  const token = async (scope = 'system/*.cruds', roles: string[] = []): Promise<string> => (await vigil.tokens.issue('test-client', ScopeSet.parse(scope), roles)).access_token;
  let users = 0;
  return {
    dir,
    config,
    vigil,
    app,
    logs,
    token,
    async user(o) {
      users += 1;
      const added = await vigil.users.add({
        username: `user${users}-${o.roles.join('-')}`,
        roles: o.roles,
        ...(o.fhirUser === undefined ? {} : { fhirUser: o.fhirUser }),
        ...(o.organizations === undefined ? {} : { organizations: o.organizations }),
        ...(o.clearances === undefined ? {} : { clearances: o.clearances }),
        password: `correct horse battery staple ${users}`,
      });
      const sessionId = (await vigil.sessions.start(added.id, 'test-client')).session.handle;
      const issued = await vigil.tokens.issue('test-client', ScopeSet.parse(o.scope ?? 'user/*.cruds'), added.roles, {
        userId: added.id,
        sessionId,
        ...(o.fhirUser === undefined ? {} : { fhirUser: o.fhirUser }),
        ...(o.patient === undefined ? {} : { patient: o.patient }),
      });
      return { token: issued.access_token, userId: added.id, sessionId };
    },
    async fhir(method, url, opts = {}) {
      defaultToken ??= await token();
      const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? defaultToken}`, ...opts.headers };
      if (opts.body !== undefined) headers['content-type'] ??= 'application/fhir+json';
      return app.inject({
        method,
        url,
        headers,
        ...(opts.body === undefined ? {} : { payload: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
      });
    },
    async close() {
      await app.close();
      await vigil.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A synthetic patient whose identifying values all contain `tag`, so a scan can look for them. */
export function syntheticPatient(tag: string): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">Narrative${tag}</div>` },
    identifier: [{ system: 'http://hospital.example/mrn', value: `MRN${tag}` }, { system: 'http://hl7.org/fhir/sid/us-ssn', value: `SSN${tag}` }],
    name: [{ family: `Family${tag}`, given: [`Given${tag}`] }],
    telecom: [{ system: 'phone', value: `Phone${tag}` }, { system: 'email', value: `mail${tag}@example.org` }],
    gender: 'female',
    birthDate: '1931-07-19',
    address: [{ line: [`Street${tag}`], city: `City${tag}`, postalCode: `Zip${tag}` }],
  };
}
