import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VERSION } from '../version.js';
import type { Resource } from '@medplum/fhirtypes';
import { disclosed } from './audit-hooks.js';
import { VigilError, isVigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import { capabilityStatement, historyBundle, isKnownResourceType, isValidId, parseVersionId, processBundle, type HistoryEntry, type ResourceVersion } from '../fhir/index.js';
import { FHIR_JSON, authenticate, checkFormat, gateOf, ifMatchVersion, returnPreference, sendWritten, versionHeaders } from './fhir-request.js';

interface TypeParams {
  type: string;
}
interface InstanceParams extends TypeParams {
  id: string;
}
interface VersionParams extends InstanceParams {
  vid: string;
}

const DEFAULT_COUNT = 50;
const MAX_COUNT = 1000;
const HISTORY_PARAMS = new Set(['_count', '_since', '_cursor', '_format', '_pretty']);

function knownType(type: string): string {
  if (!isKnownResourceType(type)) throw new VigilError('ERR_UNKNOWN_TYPE', 'The resource type is not known');
  return type;
}

function validId(id: string): string {
  if (!isValidId(id)) throw new VigilError('ERR_NOT_FOUND');
  return id;
}

/** A FHIR instant or dateTime with a time zone, as an ISO instant in UTC. */
function parseSince(raw: unknown): string {
  if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw)) {
    throw new VigilError('ERR_BAD_REQUEST', '_since must be a FHIR instant, such as 2024-01-31T12:00:00Z');
  }
  const t = Date.parse(raw.length === 10 ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(t)) throw new VigilError('ERR_BAD_REQUEST', '_since must be a FHIR instant, such as 2024-01-31T12:00:00Z');
  return new Date(t).toISOString();
}

function parseCount(raw: unknown): number {
  if (raw === undefined) return DEFAULT_COUNT;
  if (typeof raw !== 'string' || !/^[0-9]{1,6}$/.test(raw)) throw new VigilError('ERR_BAD_REQUEST', '_count must be a non-negative integer');
  return Math.min(Number(raw), MAX_COUNT);
}

/** The FHIR REST API: CRUD, vread, history (instance, type, system), metadata. */
export function registerFhirRoutes(app: FastifyInstance, vigil: Vigil): void {
  const base = vigil.config.fhirBaseUrl;
  const { repository, cursors } = vigil;
  const metadata = JSON.stringify(
    capabilityStatement({ fhirBaseUrl: base, tokenUrl: `${vigil.config.publicUrl}/oauth2/token`, version: VERSION, date: new Date().toISOString() }),
  );

  // Every /fhir route but /fhir/metadata needs a valid token; this runs before any handler.
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/fhir') || request.routeOptions.url === undefined) return;
    // Discovery needs no token: the capability statement and the SMART configuration.
    if (request.routeOptions.url === '/fhir/metadata' || request.routeOptions.url === '/fhir/.well-known/smart-configuration') return;
    const who = await authenticate(request, vigil.tokens);
    if (request.audit !== undefined) {
      request.audit.client = who.clientId;
      if (who.userId !== undefined) request.audit.user = who.userId;
      if (who.roles.length > 0) request.audit.roles = [...who.roles];
    }
    request.gate = await vigil.policy.gate(who, request.audit);
  });

  /** Reads a version the caller may see; anything else (hidden, or deleted and hidden) is not found. */
  const visibleVersion = async (request: FastifyRequest, load: () => Promise<ResourceVersion>): Promise<ResourceVersion> => {
    const g = gateOf(request);
    let version: ResourceVersion;
    try {
      version = await load();
    } catch (err) {
      // A deleted record's existence is itself disclosed only to callers who reach every patient.
      if (isVigilError(err) && err.code === 'ERR_GONE' && g.isUser && (await g.patients(knownType((request.params as TypeParams).type), 'r')) !== 'all') throw new VigilError('ERR_NOT_FOUND');
      throw err;
    }
    if (!(await g.canRead(JSON.parse(version.json) as Resource))) {
      // The caller sees "not found"; the audit entry knows the record exists and was hidden.
      if (request.audit !== undefined) request.audit.decision = 'hidden';
      throw new VigilError('ERR_NOT_FOUND');
    }
    return version;
  };

  app.get('/fhir/metadata', async (request, reply) => {
    checkFormat(request);
    return reply.header('content-type', FHIR_JSON).send(metadata);
  });

  app.post<{ Params: TypeParams }>('/fhir/:type', async (request, reply) => {
    checkFormat(request);
    const type = knownType(request.params.type);
    const g = gateOf(request);
    g.require(type, 'c');
    const { version } = await repository.create(type, request.body, request.audit, g.writeGuard());
    vigil.policy.changed(type);
    return sendWritten(request, reply, 201, version, `${base}/${type}/${version.id}/_history/${version.versionId}`);
  });

  app.get<{ Params: InstanceParams }>('/fhir/:type/:id', async (request, reply) => {
    checkFormat(request);
    const type = knownType(request.params.type);
    gateOf(request).require(type, 'r');
    const id = validId(request.params.id);
    const version = await visibleVersion(request, () => repository.read(type, id));
    disclosed(request, [JSON.parse(version.json) as Resource], base);
    return versionHeaders(reply, version).header('content-type', FHIR_JSON).send(version.json);
  });

  app.get<{ Params: VersionParams }>('/fhir/:type/:id/_history/:vid', async (request, reply) => {
    checkFormat(request);
    const type = knownType(request.params.type);
    gateOf(request).require(type, 'r');
    const vid = parseVersionId(request.params.vid);
    if (vid === undefined) throw new VigilError('ERR_NOT_FOUND');
    const id = validId(request.params.id);
    const version = await visibleVersion(request, () => repository.vread(type, id, vid));
    disclosed(request, [JSON.parse(version.json) as Resource], base, () => String(vid));
    return versionHeaders(reply, version).header('content-type', FHIR_JSON).send(version.json);
  });

  app.put<{ Params: InstanceParams }>('/fhir/:type/:id', async (request, reply) => {
    checkFormat(request);
    const type = knownType(request.params.type);
    const g = gateOf(request);
    g.require(type, 'u');
    const id = request.params.id;
    if (!isValidId(id)) throw new VigilError('ERR_BAD_REQUEST', 'The id does not match the FHIR id grammar');
    const ifMatch = ifMatchVersion(request);
    const { version, created } = await repository.update(
      type,
      id,
      request.body,
      { ...(ifMatch === undefined ? {} : { ifMatch }), allowCreate: g.allows(type, 'c'), guard: g.writeGuard() },
      request.audit,
    );
    vigil.policy.changed(type);
    return sendWritten(request, reply, created ? 201 : 200, version, `${base}/${type}/${id}/_history/${version.versionId}`);
  });

  app.delete<{ Params: InstanceParams }>('/fhir/:type/:id', async (request, reply) => {
    checkFormat(request);
    const type = knownType(request.params.type);
    const g = gateOf(request);
    g.require(type, 'd');
    await repository.delete(type, validId(request.params.id), ifMatchVersion(request), request.audit, g.writeGuard());
    vigil.policy.changed(type);
    return reply.code(204).send();
  });

  const history = async (request: FastifyRequest, reply: FastifyReply, type?: string, id?: string): Promise<FastifyReply> => {
    checkFormat(request);
    const query = request.query as Record<string, unknown>;
    for (const key of Object.keys(query)) {
      if (!HISTORY_PARAMS.has(key)) throw new VigilError('ERR_BAD_REQUEST', 'A history parameter is not supported');
    }
    const path = [type, id].filter((p) => p !== undefined).join('/');
    let since: string | undefined;
    let count: number;
    let beforeSeq: number | undefined;
    if (query['_cursor'] !== undefined) {
      // A cursor carries its own query; it is signed, and only valid for the address that made it.
      const c = cursors.verify(String(query['_cursor']));
      if (c['k'] !== 'history' || c['p'] !== path || typeof c['b'] !== 'number' || typeof c['c'] !== 'number') {
        throw new VigilError('ERR_BAD_REQUEST', 'The paging cursor is not valid');
      }
      beforeSeq = c['b'];
      count = c['c'];
      since = typeof c['s'] === 'string' ? c['s'] : undefined;
    } else {
      count = parseCount(query['_count']);
      since = query['_since'] === undefined ? undefined : parseSince(query['_since']);
    }
    const page = await repository.history({
      ...(type === undefined ? {} : { type }),
      ...(id === undefined ? {} : { id }),
      ...(since === undefined ? {} : { since }),
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
      count,
    });
    if (id !== undefined && page.total === 0 && since === undefined) throw new VigilError('ERR_NOT_FOUND');
    // Only what the caller may see; a deletion shows only to callers who reach every patient.
    const g = gateOf(request);
    const entries: HistoryEntry[] = [];
    for (const e of page.entries) {
      const ok = e.json === undefined ? !g.isUser || (await g.patients(e.type, 'r')) === 'all' : await g.canRead(JSON.parse(e.json) as Resource);
      if (ok) entries.push(e);
    }
    if (id !== undefined && entries.length === 0 && page.entries.length > 0) throw new VigilError('ERR_NOT_FOUND');
    // A total that counted hidden versions would disclose them: users never get one, clients only when nothing was hidden.
    const total = g.isUser || entries.length < page.entries.length ? undefined : page.total;
    const prefix = path === '' ? base : `${base}/${path}`;
    const nextUrl =
      page.nextBeforeSeq === undefined
        ? undefined
        : `${prefix}/_history?_cursor=${cursors.sign({ k: 'history', p: path, b: page.nextBeforeSeq, c: count, ...(since === undefined ? {} : { s: since }) })}`;
    disclosed(request, entries.flatMap((e) => (e.json === undefined ? [] : [JSON.parse(e.json) as Resource])), base, (r) => r.meta?.versionId);
    const bundle = historyBundle({
      fhirBaseUrl: base,
      selfUrl: `${vigil.config.publicUrl}${request.url}`,
      ...(nextUrl === undefined ? {} : { nextUrl }),
      ...(total === undefined ? {} : { total }),
      entries,
    });
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(bundle));
  };

  app.get<{ Params: InstanceParams }>('/fhir/:type/:id/_history', async (request, reply) => {
    const type = knownType(request.params.type);
    gateOf(request).require(type, 'r');
    return history(request, reply, type, validId(request.params.id));
  });

  app.get<{ Params: TypeParams }>('/fhir/:type/_history', async (request, reply) => {
    const type = knownType(request.params.type);
    gateOf(request).require(type, 'r', 's');
    return history(request, reply, type);
  });

  app.get('/fhir/_history', async (request, reply) => {
    // System history discloses every type, so only an all-types scope may read it.
    gateOf(request).require('*', 'r', 's');
    return history(request, reply);
  });

  const notYet = async (): Promise<never> => {
    throw new VigilError('ERR_NOT_SUPPORTED', 'This interaction is not supported yet');
  };
  app.post('/fhir', async (request, reply) => {
    checkFormat(request);
    const g = gateOf(request);
    const read: Resource[] = [];
    const bundle = await processBundle(repository, request.body, {
      fhirBaseUrl: base,
      authorize: (type, perm) => g.require(type, perm),
      mayCreate: (type) => g.allows(type, 'c'),
      access: g,
      changed: (type) => vigil.policy.changed(type),
      minimal: returnPreference(request) === 'minimal',
      ...(request.audit === undefined ? {} : { audit: request.audit }),
      onRead: (resources) => read.push(...resources),
    });
    // Reads in a Bundle run after its writes committed: they join the request's entry if the
    // writes did not record it, else they get an entry of their own.
    const draft = request.audit;
    if (draft !== undefined && read.length > 0) {
      if (draft.recorded !== true) disclosed(request, read, base);
      else {
        const reads = { ...draft, entities: [] as string[], patients: [] as string[], recorded: false, outcome: '0' as const };
        request.audit = reads;
        disclosed(request, read, base);
        request.audit = draft;
        await vigil.repository.trail.record(reads);
      }
    }
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(bundle));
  });
  app.patch('/fhir/:type/:id', notYet);
}
