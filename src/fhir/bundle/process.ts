import type { Bundle, BundleEntry, BundleEntryResponse, Resource } from '@medplum/fhirtypes';
import { ERROR_STATUS, VigilError } from '../../errors.js';
import type { Permission } from '../../auth/index.js';
import type { PreparedWrite, Repository, WriteGuard, WriteResult } from '../repository.js';
import type { AccessFilter } from '../search/engine.js';
import { errorOutcome } from '../outcome.js';
import { clauseTypes, parseSearch } from '../search/parse.js';
import { searchBundle } from '../search/bundle.js';
import { entryError, parseEntries, type EntryRequest } from './entries.js';
import type { AuditDraft } from '../../audit/trail.js';
import { conditionalType, referenceHolders } from './references.js';
import { runInWindows, type Turn } from './windows.js';

export interface BundleOptions {
  readonly fhirBaseUrl: string;
  /** Checks the caller may do `perm` on `type`; throws ERR_SCOPE otherwise. */
  readonly authorize: (type: string, perm: Permission) => void;
  /** May an update create? (the caller holds the create permission on the type) */
  readonly mayCreate: (type: string) => boolean;
  /** `Prefer: return=minimal` leaves resources out of the response entries. */
  readonly minimal?: boolean;
  /** The request's audit entry: written with the Bundle's writes, in their transaction. */
  readonly audit?: AuditDraft;
  /** Told of every resource a GET entry disclosed (they are audited after the writes commit). */
  readonly onRead?: (resources: Resource[]) => void;
  /** The access policy of the request: what entries may see and write. */
  readonly access?: BundleAccess;
  /** Told of every type written, after the writes committed. */
  readonly changed?: (type: string) => void;
  /** Set for the entries of a batch window: when this transaction may go to the store (windows.ts). */
  readonly turn?: Turn;
}

/**
 * The access decision a Bundle is processed under: conditions, conditional references and GET
 * entries see only what the caller may see, and every write passes the guard in its transaction.
 */
export interface BundleAccess extends AccessFilter {
  canRead(resource: Resource): Promise<boolean>;
  writeGuard(): WriteGuard;
}

/** Replaces every `reference` in a resource through `resolve` (urn:uuid and conditional references). */
async function rewriteReferences(value: unknown, resolve: (ref: string) => Promise<string | undefined>): Promise<void> {
  // One await per reference, not one per nested object: a Synthea Bundle has thousands of objects.
  for (const holder of referenceHolders(value)) {
    const replaced = await resolve(holder['reference'] as string);
    if (replaced !== undefined) holder['reference'] = replaced;
  }
}

function status(code: number): string {
  const text: Record<number, string> = { 200: '200 OK', 201: '201 Created', 204: '204 No Content' };
  return text[code] ?? String(code);
}

function written(r: WriteResult, base: string, minimal: boolean): BundleEntry {
  const response: BundleEntryResponse = {
    status: status(r.created ? 201 : 200),
    location: `${base}/${r.version.type}/${r.version.id}/_history/${r.version.versionId}`,
    etag: `W/"${r.version.versionId}"`,
    lastModified: r.version.lastUpdated,
  };
  return { fullUrl: `${base}/${r.version.type}/${r.version.id}`, ...(minimal ? {} : { resource: JSON.parse(r.version.json) as Resource }), response };
}

/** What one write entry resolved to before the unit runs. */
type Planned =
  | { readonly kind: 'write'; readonly entry: EntryRequest; readonly prepared: PreparedWrite; readonly mustNotExist: boolean }
  | { readonly kind: 'delete'; readonly entry: EntryRequest; readonly targets: readonly string[] }
  | { readonly kind: 'existing'; readonly entry: EntryRequest; readonly type: string; readonly id: string }
  | { readonly kind: 'read'; readonly entry: EntryRequest };

/**
 * Processes a batch or transaction Bundle (FHIR R4 3.1.0.11). A transaction resolves `urn:uuid:`
 * and conditional references, runs conditional creates, updates and deletes, and stores every
 * write in one store transaction: all of it commits, or nothing does. A batch runs each entry
 * on its own and reports each outcome.
 */
export async function processBundle(repository: Repository, body: unknown, o: BundleOptions): Promise<Bundle> {
  const { type, entries } = parseEntries(body, o.fhirBaseUrl);
  if (type === 'batch') return batch(repository, entries, o);
  const failed = entries.find((e): e is VigilError => e instanceof VigilError);
  if (failed !== undefined) throw failed;
  return transaction(repository, entries as EntryRequest[], o);
}

async function matches(repository: Repository, type: string, query: string, access: AccessFilter | undefined): Promise<string[]> {
  // A condition matches only what the caller may see, so it cannot probe hidden records.
  return (await repository.engine.matchCondition(type, query, access)).map((f) => f.id);
}

/** How many times a transaction is planned again when its conditions changed before it could be stored. */
const MAX_ATTEMPTS = 4;

/** Thrown inside the unit when a condition no longer matches what it matched while planning. */
class ConditionsChanged extends Error {}

/** A condition resolved while planning, and the ids it matched then (in id order). */
interface Resolved {
  readonly type: string;
  readonly query: string;
  readonly ids: readonly string[];
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

async function transaction(repository: Repository, entries: EntryRequest[], o: BundleOptions): Promise<Bundle> {
  // 1. Authorize everything before doing anything.
  for (const e of entries) {
    try {
      const perms: Permission[] = e.method === 'GET' ? [e.query !== undefined ? 's' : 'r'] : e.method === 'POST' ? ['c'] : e.method === 'PUT' ? ['u'] : ['d'];
      if (e.query !== undefined && e.method !== 'GET') perms.push('s');
      if (e.ifNoneExist !== undefined) perms.push('s');
      for (const p of perms) o.authorize(e.type, p);
    } catch (err) {
      throw entryError(e.index, err);
    }
  }
  // Conditions are resolved before the write lock, so that preparing the writes does not hold it;
  // another connection (an import thread, a second process) may change what they match meanwhile.
  // Under the lock they are resolved again, and a transaction that finds them changed is planned
  // anew: two conditional creates of one patient make one Patient, never two.
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptTransaction(repository, entries, o);
    } catch (err) {
      if (!(err instanceof ConditionsChanged)) throw err;
      if (attempt === MAX_ATTEMPTS) throw new VigilError('ERR_CONFLICT', "What the transaction's conditions match kept changing while it was being stored; send it again");
    }
  }
}

/** Steps 2 to 5 of a transaction, once; throws ConditionsChanged when planning must start again. */
async function attemptTransaction(repository: Repository, entries: EntryRequest[], o: BundleOptions): Promise<Bundle> {
  const base = o.fhirBaseUrl;
  const minimal = o.minimal === true;
  const resolved: Resolved[] = [];
  const find = async (type: string, query: string): Promise<string[]> => {
    const ids = await matches(repository, type, query, o.access);
    resolved.push({ type, query, ids });
    return ids;
  };
  const fullUrls = new Map<string, string>();
  const seenTargets = new Set<string>();
  const plan: Planned[] = [];
  // 2. Give every created resource its id, resolve conditional targets, and map fullUrls.
  const ids = new Map<number, { id: string; mustNotExist: boolean } | { existing: string }>();
  for (const e of entries) {
    try {
      if (e.method === 'POST') {
        if (e.ifNoneExist !== undefined) {
          const found = await find(e.type, e.ifNoneExist);
          if (found.length > 1) throw new VigilError('ERR_VERSION_CONFLICT', 'The If-None-Exist condition matches more than one resource');
          if (found.length === 1) {
            ids.set(e.index, { existing: found[0] ?? '' });
            if (e.fullUrl !== undefined) fullUrls.set(e.fullUrl, `${e.type}/${found[0] ?? ''}`);
            continue;
          }
        }
        const id = repository.newId();
        ids.set(e.index, { id, mustNotExist: true });
        if (e.fullUrl !== undefined) fullUrls.set(e.fullUrl, `${e.type}/${id}`);
      } else if (e.method === 'PUT') {
        let id = e.id;
        if (id === undefined) {
          const found = await find(e.type, e.query ?? '');
          if (found.length > 1) throw new VigilError('ERR_VERSION_CONFLICT', 'The conditional update matches more than one resource');
          id = found[0] ?? (typeof e.resource?.id === 'string' ? e.resource.id : repository.newId());
        }
        ids.set(e.index, { id, mustNotExist: false });
        if (e.fullUrl !== undefined) fullUrls.set(e.fullUrl, `${e.type}/${id}`);
      }
      if (e.method !== 'GET') {
        const target = e.method === 'DELETE' && e.id === undefined ? undefined : `${e.type}/${(ids.get(e.index) as { id?: string } | undefined)?.id ?? e.id ?? ''}`;
        // FHIR: a transaction may not touch one resource twice.
        if (target !== undefined && !target.endsWith('/')) {
          if (seenTargets.has(target)) throw new VigilError('ERR_BAD_REQUEST', 'Two entries of the transaction touch the same resource');
          seenTargets.add(target);
        }
      }
    } catch (err) {
      throw entryError(e.index, err);
    }
  }
  // 3. Rewrite references and prepare (validate, index) every write, outside the write lock.
  const conditional = new Map<string, string>();
  const resolve = async (ref: string): Promise<string | undefined> => {
    const mapped = fullUrls.get(ref);
    if (mapped !== undefined) return mapped;
    if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) throw new VigilError('ERR_BAD_REQUEST', 'A urn reference does not name an entry of the transaction');
    const type = conditionalType(ref);
    if (type !== undefined) {
      const cached = conditional.get(ref);
      if (cached !== undefined) return cached;
      // Resolving a conditional reference is a search of that type: it needs the search scope.
      o.authorize(type, 's');
      const found = await find(type, ref.slice(type.length + 1));
      if (found.length !== 1) throw new VigilError('ERR_VERSION_CONFLICT', `A conditional reference matches ${found.length === 0 ? 'no' : 'more than one'} resource`);
      const resolved = `${type}/${found[0] ?? ''}`;
      conditional.set(ref, resolved);
      return resolved;
    }
    return undefined;
  };
  for (const e of entries) {
    try {
      if (e.method === 'GET') {
        plan.push({ kind: 'read', entry: e });
        continue;
      }
      if (e.method === 'DELETE') {
        const targets = e.id !== undefined ? [e.id] : await find(e.type, e.query ?? '');
        if (e.id === undefined && targets.length > 1) throw new VigilError('ERR_VERSION_CONFLICT', 'The conditional delete matches more than one resource');
        plan.push({ kind: 'delete', entry: e, targets });
        continue;
      }
      const assigned = ids.get(e.index);
      if (assigned !== undefined && 'existing' in assigned) {
        plan.push({ kind: 'existing', entry: e, type: e.type, id: assigned.existing });
        continue;
      }
      const resource = structuredClone(e.resource) as Resource & { id?: string };
      await rewriteReferences(resource, resolve);
      const id = assigned?.id ?? '';
      if (e.method === 'PUT' && e.id !== undefined && resource.id !== e.id) throw new VigilError('ERR_BAD_REQUEST', 'The id in the resource must match request.url');
      resource.id = id;
      // A POST creates; a PUT usually does too in the Bundles that carry many of them (imports, migrations).
      plan.push({ kind: 'write', entry: e, prepared: repository.prepare(e.type, id, resource, true), mustNotExist: assigned?.mustNotExist ?? false });
    } catch (err) {
      throw entryError(e.index, err);
    }
  }
  // 4. Store: deletes, then creates, then updates (FHIR's processing order), in one unit.
  const results = new Map<number, BundleEntry>();
  const order = (p: Planned): number => (p.kind === 'delete' ? 0 : p.entry.method === 'POST' ? 1 : 2);
  await o.turn?.wait();
  const stored = repository.unit(async (unit) => {
    for (const r of resolved) if (!sameIds(await unit.matches(r.type, r.query, o.access), r.ids)) throw new ConditionsChanged();
    for (const p of [...plan].sort((a, b) => order(a) - order(b) || a.entry.index - b.entry.index)) {
      try {
        if (p.kind === 'delete') {
          for (const id of p.targets) {
            if (await unit.exists(p.entry.type, id)) await unit.delete(p.entry.type, id, p.entry.ifMatch, o.access?.writeGuard());
            else if (p.entry.id !== undefined) throw new VigilError('ERR_NOT_FOUND');
          }
          results.set(p.entry.index, { response: { status: status(204) } });
        } else if (p.kind === 'write') {
          const r = await unit.write(p.prepared, {
            mustNotExist: p.mustNotExist,
            ...(p.entry.ifMatch === undefined ? {} : { ifMatch: p.entry.ifMatch }),
            ...(p.entry.method === 'PUT' ? { allowCreate: o.mayCreate(p.entry.type) } : {}),
            ...(o.access === undefined ? {} : { guard: o.access.writeGuard() }),
          });
          results.set(p.entry.index, written(r, base, minimal));
        } else if (p.kind === 'existing') {
          results.set(p.entry.index, { fullUrl: `${base}/${p.type}/${p.id}`, response: { status: status(200), location: `${base}/${p.type}/${p.id}` } });
        }
      } catch (err) {
        throw entryError(p.entry.index, err);
      }
    }
  }, plan.some((p) => p.kind !== 'read') ? o.audit : undefined);
  // The store has queued the unit: the next entry of a batch window may hand over its own.
  o.turn?.pass();
  await stored;
  for (const p of plan) if (p.kind === 'write' || p.kind === 'delete') o.changed?.(p.entry.type);
  // 5. Reads run after the writes committed, and see them.
  for (const p of plan) {
    if (p.kind !== 'read') continue;
    try {
      const entry = await readEntry(repository, p.entry, base, o);
      results.set(p.entry.index, entry);
      const resource = entry.resource;
      if (resource !== undefined) o.onRead?.(resource.resourceType === 'Bundle' ? ((resource as Bundle).entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource])) : [resource]);
    } catch (err) {
      throw entryError(p.entry.index, err);
    }
  }
  return { resourceType: 'Bundle', type: 'transaction-response', entry: entries.map((e) => results.get(e.index) ?? { response: { status: status(200) } }) };
}

function mayRead(o: BundleOptions, type: string): boolean {
  try {
    o.authorize(type, 'r');
    return true;
  } catch {
    return false;
  }
}

async function readEntry(repository: Repository, e: EntryRequest, base: string, o: BundleOptions): Promise<BundleEntry> {
  if (e.id === undefined) {
    const request = parseSearch(e.type, [...new URLSearchParams(e.query ?? '')], false);
    // The same rules as a search on its own: every chained type needs the scope, and included
    // resources of types the caller may not read are left out.
    for (const clause of request.clauses) for (const t of clauseTypes(clause)) o.authorize(t, 's');
    const found = await repository.search(request, undefined, o.access);
    const page = { ...found, includes: found.includes.filter((f) => mayRead(o, f.type)) };
    return { resource: searchBundle(request, page, { fhirBaseUrl: base, selfUrl: `${base}/${e.type}?${e.query ?? ''}` }), response: { status: status(200) } };
  }
  const v = e.versionId === undefined ? await repository.read(e.type, e.id) : await repository.vread(e.type, e.id, e.versionId);
  if (o.access !== undefined && !(await o.access.canRead(JSON.parse(v.json) as Resource))) throw new VigilError('ERR_NOT_FOUND');
  return {
    fullUrl: `${base}/${v.type}/${v.id}`,
    resource: JSON.parse(v.json) as Resource,
    response: { status: status(200), etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated },
  };
}

/**
 * Entries of a batch handed to the store at once (windows.ts): it commits them together, where a
 * commit per entry took more than a quarter of the time of a conditional create.
 */
const BATCH_WINDOW = 128;

/** What a write entry names: `Type/id`, or its type and condition; nothing for a plain create or a read. */
function writeTarget(e: EntryRequest): string | undefined {
  if (e.method === 'GET') return undefined;
  if (e.method === 'POST') return e.ifNoneExist === undefined ? undefined : `${e.type}?${e.ifNoneExist}`;
  return e.id !== undefined ? `${e.type}/${e.id}` : `${e.type}?${e.query ?? ''}`;
}

/** A batch: each entry on its own; a failure is reported in its entry and the others go on. */
async function batch(repository: Repository, entries: (EntryRequest | VigilError)[], o: BundleOptions): Promise<Bundle> {
  const out: BundleEntry[] = [];
  await runInWindows(
    entries,
    BATCH_WINDOW,
    (e) => (e instanceof VigilError ? {} : { target: writeTarget(e), resource: e.resource, read: e.method === 'GET' }),
    async (e, turn) => batchEntry(repository, e, { ...o, turn }),
    (_, outcomes) => {
      for (const r of outcomes) out.push(r.status === 'fulfilled' ? r.value : failedEntry(r.reason));
    },
  );
  return { resourceType: 'Bundle', type: 'batch-response', entry: out };
}

/** One batch entry as a one-entry transaction (same rules, its own savepoint). */
async function batchEntry(repository: Repository, e: EntryRequest | VigilError, o: BundleOptions): Promise<BundleEntry> {
  if (e instanceof VigilError) throw e;
  // Each entry is audited on its own (its own transaction), with the request's agent and id.
  const audit = o.audit === undefined ? undefined : { ...o.audit, entities: [], patients: [], recorded: false };
  const single = await transaction(repository, [e], { ...o, ...(audit === undefined ? {} : { audit }) });
  return single.entry?.[0] ?? { response: { status: '200' } };
}

/** A failed batch entry's response: its status and an OperationOutcome. */
function failedEntry(err: unknown): BundleEntry {
  const v = err instanceof VigilError ? err : new VigilError('ERR_INTERNAL');
  return { response: { status: String(ERROR_STATUS[v.code]), outcome: errorOutcome(v.code, v.message, v.issues) } };
}
