import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import type { AlertStatus } from '../detect/index.js';
import { auditAdmin, objectBody, requireRole, sendJson } from './admin-guard.js';

const SECURITY_ROLES = ['security-admin', 'privacy-officer'];
const STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'confirmed', 'dismissed'];

/** The caller, if they hold one of `roles` (else 403; no token 401); returns `user/<id>` or `client/<id>`. */
async function officer(request: FastifyRequest, vigil: Vigil, roles: readonly string[]): Promise<string> {
  const p = await requireRole(request, vigil.tokens, roles, `This needs the ${roles.join(' or ')} role`);
  return p.userId !== undefined ? `user/${p.userId}` : `client/${p.clientId}`;
}

/**
 * Alerts and the server mode, for security roles:
 * `GET /admin/alerts?status=open&since=ISO`, `POST /admin/alerts/{id}` `{ status, reason }`,
 * `GET /admin/mode`, `POST /admin/mode` `{ mode, reason }` (security-admin only).
 */
export function registerDetectRoutes(app: FastifyInstance, vigil: Vigil): void {
  const { alerts, mode } = vigil.detection;

  app.get('/admin/alerts', async (request, reply) => {
    await officer(request, vigil, SECURITY_ROLES);
    auditAdmin(request, 'alerts-list');
    const q = request.query as Record<string, unknown>;
    const status = q['status'];
    if (status !== undefined && !STATUSES.includes(status as AlertStatus)) throw new VigilError('ERR_BAD_REQUEST', `status must be one of ${STATUSES.join(', ')}`);
    let since: Date | undefined;
    if (q['since'] !== undefined) {
      since = typeof q['since'] === 'string' ? new Date(q['since']) : new Date(Number.NaN);
      if (Number.isNaN(since.getTime())) throw new VigilError('ERR_BAD_REQUEST', 'since must be an ISO 8601 date-time');
    }
    const list = await alerts.list({ ...(status === undefined ? {} : { status: status as AlertStatus }), ...(since === undefined ? {} : { since }) });
    return sendJson(reply, 200, { alerts: list });
  });

  app.post<{ Params: { id: string } }>('/admin/alerts/:id', async (request, reply) => {
    const by = await officer(request, vigil, SECURITY_ROLES);
    auditAdmin(request, 'alert-triage', `alert/${request.params.id}`);
    const body = objectBody(request, ['status', 'reason']);
    const status = body['status'];
    if (typeof status !== 'string' || !STATUSES.includes(status as AlertStatus)) throw new VigilError('ERR_BAD_REQUEST', `status must be one of ${STATUSES.join(', ')}`);
    const reason = body['reason'];
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 2000)) throw new VigilError('ERR_BAD_REQUEST', 'reason must be a string of at most 2000 characters');
    // Dismissing says why: the next reviewer must see the judgement, not only the verdict.
    if (status === 'dismissed' && (typeof reason !== 'string' || reason.trim() === '')) throw new VigilError('ERR_BAD_REQUEST', 'A dismissed alert needs a reason');
    if (!/^[0-9a-z]{9}-[0-9a-f-]{36}$/.test(request.params.id)) throw new VigilError('ERR_NOT_FOUND');
    const updated = await alerts.triage(request.params.id, status as AlertStatus, by, reason as string | undefined);
    if (updated === undefined) throw new VigilError('ERR_NOT_FOUND');
    return sendJson(reply, 200, updated);
  });

  app.get('/admin/mode', async (request, reply) => {
    await officer(request, vigil, SECURITY_ROLES);
    auditAdmin(request, 'mode-read');
    const state = await mode.get();
    return sendJson(reply, 200, { mode: state.mode, reason: state.reason, since: state.since, ...(state.by === undefined ? {} : { by: state.by }) });
  });

  app.post('/admin/mode', async (request, reply) => {
    const by = await officer(request, vigil, ['security-admin']);
    auditAdmin(request, 'mode-change');
    const body = objectBody(request, ['mode', 'reason']);
    if (body['mode'] !== 'read-write' && body['mode'] !== 'read-only') throw new VigilError('ERR_BAD_REQUEST', 'mode must be read-write or read-only');
    const reason = body['reason'];
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500) throw new VigilError('ERR_BAD_REQUEST', 'reason must be a string of 1 to 500 characters');
    const state = await mode.set(body['mode'], reason, by);
    if (request.audit !== undefined) request.audit.decision = state.mode;
    return sendJson(reply, 200, { mode: state.mode, reason: state.reason, since: state.since, by });
  });
}
