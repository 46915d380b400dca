import type { FastifyInstance } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import type { AuditRow } from '../store/index.js';
import { bodyOf, isAccountable, mayReadAccessReport, reportParameters, sixYearsBefore, type ReportType } from '../audit/access-report.js';
import { dateRange, isValidId } from '../fhir/index.js';
import { FHIR_JSON, checkFormat } from './fhir-request.js';

const PARAMS = new Set(['type', '_since', 'date', '_count', '_cursor', '_format', '_pretty']);
const DEFAULT_COUNT = 100;
const MAX_COUNT = 1000;
/** Audit rows read per store query while filtering the accounting. */
const SCAN_PAGE = 500;
/** At most this many rows are examined per request; a page may come back short, with `next`. */
const SCAN_LIMIT = 20_000;

interface ReportQuery {
  type: ReportType;
  count: number;
  from?: string;
  to?: string;
  beforeSeq?: number;
}

function bad(message: string): VigilError {
  // Messages name the parameter's rule, never the value sent.
  return new VigilError('ERR_BAD_REQUEST', message);
}

/** Reads the query: a cursor carries the whole query it continues; otherwise each parameter once (date may repeat). */
function parseQuery(url: string, patientId: string, vigil: Vigil, now: Date): ReportQuery {
  const pairs = [...new URLSearchParams(url.slice(url.indexOf('?') + 1 || url.length))];
  const seen = new Set<string>();
  for (const [key] of pairs) {
    if (!PARAMS.has(key)) throw bad('A parameter is not known for $access-report');
    if (key !== 'date' && seen.has(key)) throw bad('A parameter of $access-report is repeated');
    seen.add(key);
  }
  const get = (key: string): string | undefined => pairs.find(([k]) => k === key)?.[1];
  const cursor = get('_cursor');
  if (cursor !== undefined) {
    const c = vigil.cursors.verify(cursor);
    // A cursor is good for the patient and report it was made for, and nothing else.
    if (c['k'] !== 'access-report' || c['p'] !== patientId || (c['t'] !== 'access' && c['t'] !== 'accounting') || typeof c['c'] !== 'number' || typeof c['b'] !== 'number') {
      throw bad('The paging cursor is not valid');
    }
    return { type: c['t'], count: c['c'], beforeSeq: c['b'], ...(typeof c['f'] === 'string' ? { from: c['f'] } : {}), ...(typeof c['u'] === 'string' ? { to: c['u'] } : {}) };
  }
  const type = get('type') ?? 'access';
  if (type !== 'access' && type !== 'accounting') throw bad('type must be access or accounting');
  const rawCount = get('_count');
  if (rawCount !== undefined && !/^[0-9]{1,6}$/.test(rawCount)) throw bad('_count must be a non-negative integer');
  const count = rawCount === undefined ? DEFAULT_COUNT : Math.max(1, Math.min(Number(rawCount), MAX_COUNT));
  const froms: number[] = [];
  const tos: number[] = [];
  const since = get('_since');
  if (since !== undefined) {
    const r = /^\d{4}-\d{2}-\d{2}(T.+)?$/.test(since) ? dateRange(since) : undefined;
    if (r === undefined) throw bad('_since must be a FHIR instant, such as 2024-01-31T12:00:00Z');
    froms.push(r.lo);
  }
  for (const [key, value] of pairs) {
    if (key !== 'date') continue;
    const m = /^(ge|le|gt|lt|eq)?(.+)$/.exec(value);
    const r = m?.[2] === undefined ? undefined : dateRange(m[2]);
    if (m === null || r === undefined) throw bad('date must be a FHIR date with an optional ge/le/gt/lt/eq prefix');
    const prefix = m[1] ?? 'eq';
    if (prefix === 'ge' || prefix === 'gt' || prefix === 'eq') froms.push(prefix === 'gt' ? r.hi + 1 : r.lo);
    if (prefix === 'le' || prefix === 'lt' || prefix === 'eq') tos.push(prefix === 'lt' ? r.lo - 1 : r.hi);
  }
  // 164.528(a)(1): the accounting covers at most the six years before the request, up to the request.
  if (type === 'accounting') {
    froms.push(sixYearsBefore(now).getTime());
    tos.push(now.getTime());
  }
  return {
    type,
    count,
    ...(froms.length === 0 ? {} : { from: new Date(Math.max(...froms)).toISOString() }),
    ...(tos.length === 0 ? {} : { to: new Date(Math.min(...tos)).toISOString() }),
  };
}

/**
 * `GET /fhir/Patient/{id}/$access-report`: who accessed a patient's record, and (`?type=accounting`)
 * the HIPAA accounting of disclosures, as a FHIR Parameters resource (docs/access-report.md).
 * For privacy officers and security admins, and for the patient themself.
 */
export function registerAccessReportRoutes(app: FastifyInstance, vigil: Vigil, options: { now?: () => Date } = {}): void {
  const base = vigil.config.fhirBaseUrl;
  const tenant = vigil.config.tenant;
  const clock = options.now ?? (() => new Date());

  app.get<{ Params: { id: string } }>('/fhir/Patient/:id/$access-report', async (request, reply) => {
    const id = request.params.id;
    // An id outside the FHIR grammar names nobody: the same 404 as a refusal.
    if (!isValidId(id)) throw new VigilError('ERR_NOT_FOUND');
    const draft = request.audit;
    if (draft !== undefined) {
      // The attempt is part of the patient's record of accesses, allowed or not; names only, never values.
      draft.patients.push(id);
      draft.queryParams = [...new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1 || request.url.length)).keys()].filter((k) => PARAMS.has(k));
    }
    checkFormat(request);
    const principal = request.principal;
    if (principal === undefined) throw new VigilError('ERR_UNAUTHENTICATED');
    // Default deny, and a refusal looks exactly like a patient that does not exist.
    if (!mayReadAccessReport(principal, id)) throw new VigilError('ERR_NOT_FOUND');
    const now = clock();
    const q = parseQuery(request.url, id, vigil, now);
    // A deleted patient still has its report; an id that never named a patient has none.
    if ((await vigil.store.readCurrent(tenant, 'Patient', id)) === undefined) throw new VigilError('ERR_NOT_FOUND');

    const accounting = q.type === 'accounting';
    const keep = (row: AuditRow): boolean => !accounting || isAccountable(bodyOf(row), id);
    const rows: AuditRow[] = [];
    let resumeAt: number | undefined;
    let before = q.beforeSeq;
    let scanned = 0;
    const empty = q.from !== undefined && q.to !== undefined && q.from > q.to;
    scan: while (!empty) {
      const batch = await vigil.store.searchAudit({
        tenant,
        patient: id,
        // Only successful interactions can disclose anything.
        ...(accounting ? { outcome: '0' } : {}),
        ...(q.from === undefined ? {} : { from: q.from }),
        ...(q.to === undefined ? {} : { to: q.to }),
        ...(before === undefined ? {} : { beforeSeq: before }),
        limit: accounting ? SCAN_PAGE : q.count + 1,
      });
      for (const row of batch) {
        if (!keep(row)) continue;
        if (rows.length === q.count) {
          resumeAt = rows[rows.length - 1]?.seq;
          break scan;
        }
        rows.push(row);
      }
      scanned += batch.length;
      const last = batch[batch.length - 1];
      if (last === undefined || batch.length < (accounting ? SCAN_PAGE : q.count + 1)) break;
      before = last.seq;
      if (scanned >= SCAN_LIMIT) {
        resumeAt = last.seq;
        break;
      }
    }

    const clientNames = new Map<string, string>();
    if (accounting) {
      for (const client of new Set(rows.map((r) => bodyOf(r).client))) {
        const found = client === undefined ? undefined : await vigil.store.getClient(client);
        if (found !== undefined) clientNames.set(found.clientId, found.name);
      }
    }
    const cursor =
      resumeAt === undefined
        ? undefined
        : vigil.cursors.sign({ k: 'access-report', p: id, t: q.type, c: q.count, b: resumeAt, ...(q.from === undefined ? {} : { f: q.from }), ...(q.to === undefined ? {} : { u: q.to }) });
    const parameters = reportParameters({
      type: q.type,
      patientId: id,
      generated: now.toISOString(),
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
      rows,
      ...(cursor === undefined ? {} : { next: `${base}/Patient/${id}/$access-report?_cursor=${cursor}` }),
      clientNames,
    });
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(parameters));
  });
}
