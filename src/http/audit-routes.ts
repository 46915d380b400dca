import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Bundle } from '@medplum/fhirtypes';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import type { Principal } from '../auth/index.js';
import { toAuditEvent } from '../audit/audit-event.js';
import { dateRange } from '../fhir/index.js';
import { FHIR_JSON, checkFormat, requireScope } from './fhir-request.js';

/** Roles that may read the audit trail (HIPAA: security and privacy officers). */
const AUDIT_ROLES = new Set(['security-admin', 'privacy-officer']);
const PARAMS = new Set(['patient', 'agent', 'action', 'outcome', 'date', '_count', '_cursor', '_format']);

function mayReadAudit(request: FastifyRequest, perm: 'r' | 's'): Principal {
  const principal = request.principal as Principal;
  requireScope(principal, 'AuditEvent', perm);
  // Default deny: the scope alone is not enough, the client must hold a security or privacy role.
  if (!principal.roles.some((r) => AUDIT_ROLES.has(r))) throw new VigilError('ERR_SCOPE', 'Only security and privacy roles may read the audit trail');
  return principal;
}

/** The audit trail as FHIR AuditEvent resources: read and search only (nobody writes them through the API). */
export function registerAuditRoutes(app: FastifyInstance, vigil: Vigil): void {
  const base = vigil.config.fhirBaseUrl;
  const name = `Vigil ${vigil.config.publicUrl}`;

  app.get<{ Params: { id: string } }>('/fhir/AuditEvent/:id', async (request, reply) => {
    checkFormat(request);
    mayReadAudit(request, 'r');
    const seq = /^[1-9][0-9]{0,15}$/.test(request.params.id) ? Number(request.params.id) : undefined;
    const row = seq === undefined ? undefined : await vigil.store.readAudit(vigil.config.tenant, seq);
    if (row === undefined) throw new VigilError('ERR_NOT_FOUND');
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(toAuditEvent(row, name)));
  });

  app.get('/fhir/AuditEvent', async (request, reply) => {
    checkFormat(request);
    mayReadAudit(request, 's');
    const q = [...new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1 || request.url.length))];
    const filter: { patient?: string; agent?: string; action?: string; outcome?: string; from?: string; to?: string; beforeSeq?: number } = {};
    let count = 50;
    for (const [key, value] of q) {
      if (!PARAMS.has(key)) throw new VigilError('ERR_BAD_REQUEST', 'A search parameter is not known for AuditEvent');
      if (key === 'patient') filter.patient = value.replace(/^Patient\//, '');
      else if (key === 'agent') filter.agent = value;
      else if (key === 'action') filter.action = value;
      else if (key === 'outcome') filter.outcome = value;
      else if (key === '_count') count = Math.min(Math.max(Number.parseInt(value, 10) || 0, 0), 1000);
      else if (key === '_cursor') {
        const c = vigil.cursors.verify(value);
        if (c['k'] !== 'audit' || typeof c['b'] !== 'number') throw new VigilError('ERR_BAD_REQUEST', 'The paging cursor is not valid');
        filter.beforeSeq = c['b'];
      } else if (key === 'date') {
        const m = /^(ge|le|gt|lt|eq)?(.+)$/.exec(value);
        const r = m?.[2] === undefined ? undefined : dateRange(m[2]);
        if (m === null || r === undefined) throw new VigilError('ERR_BAD_REQUEST', 'date must be a FHIR date with an optional ge/le/gt/lt/eq prefix');
        const prefix = m[1] ?? 'eq';
        if (prefix === 'ge' || prefix === 'gt' || prefix === 'eq') filter.from = new Date(prefix === 'gt' ? r.hi + 1 : r.lo).toISOString();
        if (prefix === 'le' || prefix === 'lt' || prefix === 'eq') filter.to = new Date(prefix === 'lt' ? r.lo - 1 : r.hi).toISOString();
      }
    }
    const rows = await vigil.store.searchAudit({ tenant: vigil.config.tenant, ...filter, limit: count + 1 });
    const page = rows.slice(0, count);
    const last = page[page.length - 1];
    const query = q.filter(([k]) => k !== '_cursor');
    const self = `${base}/AuditEvent${query.length === 0 ? '' : `?${new URLSearchParams(query).toString()}`}`;
    const link: NonNullable<Bundle['link']> = [{ relation: 'self', url: self }];
    if (rows.length > count && last !== undefined) {
      link.push({ relation: 'next', url: `${self}${query.length === 0 ? '?' : '&'}_cursor=${vigil.cursors.sign({ k: 'audit', b: last.seq })}` });
    }
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link,
      entry: page.map((row) => ({ fullUrl: `${base}/AuditEvent/${row.seq}`, resource: toAuditEvent(row, name), search: { mode: 'match' as const } })),
    };
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(bundle));
  });
}
