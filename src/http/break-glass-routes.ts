import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import { infoOutcome, isValidId } from '../fhir/index.js';
import type { BreakGlassGrant } from '../policy/index.js';
import { FHIR_JSON, checkFormat, gateOf } from './fhir-request.js';
import { objectBody, requireRole, JSON_TYPE } from './admin-guard.js';

/** Roles that may open a record they have no relationship with, in an emergency. */
const CARE_ROLES = ['clinician', 'nurse'];
/** Roles that review break-the-glass grants. */
const REVIEW_ROLES = ['privacy-officer', 'security-admin'];

/** The `reason` of a `Parameters` body: 10 to 500 characters of the user's own words. */
function reasonOf(body: unknown): string {
  const params = (body as { resourceType?: unknown; parameter?: unknown } | undefined) ?? {};
  const list = params.resourceType === 'Parameters' && Array.isArray(params.parameter) ? (params.parameter as { name?: unknown; valueString?: unknown }[]) : [];
  const reason = list.find((p) => p.name === 'reason')?.valueString;
  if (typeof reason !== 'string' || reason.trim().length < 10 || reason.length > 500) {
    throw new VigilError('ERR_BAD_REQUEST', 'Break-the-glass needs a Parameters body with a `reason` (valueString) of 10 to 500 characters');
  }
  return reason.trim();
}

/** Marks the request's audit entry as a break-the-glass event for the patient (the reason stays sealed). */
function auditBreakGlass(request: FastifyRequest, subtype: string, patient: string): void {
  const a = request.audit;
  if (a === undefined) return;
  a.type = 'security';
  a.subtype = subtype;
  a.purposeOfUse = ['BTG'];
  a.decision = 'break-glass';
  a.patients.push(patient);
}

function grantView(g: BreakGlassGrant): Record<string, unknown> {
  return { ...g, active: g.endedAt === undefined && Date.parse(g.expiresAt) > Date.now(), flagged: g.review === undefined };
}

/**
 * Break-the-glass: `POST /fhir/Patient/{id}/$break-the-glass` opens a patient's record to a
 * clinician or nurse with no care relationship, for a limited time, with a reason; `DELETE` ends
 * it early. Every grant is its own audit event (purpose of use BTG) and waits for review at
 * `GET /admin/break-glass` and `POST /admin/break-glass/{id}/review` (privacy and security officers).
 */
export function registerBreakGlassRoutes(app: FastifyInstance, vigil: Vigil): void {
  const open = async (request: FastifyRequest<{ Params: { id: string } }>): Promise<{ userId: string; patient: string }> => {
    checkFormat(request);
    const g = gateOf(request);
    const id = request.params.id;
    if (!isValidId(id)) throw new VigilError('ERR_NOT_FOUND');
    auditBreakGlass(request, 'break-glass-start', id);
    const p = g.principal;
    if (p.kind !== 'user' || p.userId === undefined || !p.roles.some((r) => CARE_ROLES.includes(r)) || !g.allows('Patient', 'r')) {
      throw new VigilError('ERR_ACCESS_DENIED', 'Only a signed-in clinician or nurse may break the glass');
    }
    const current = await vigil.store.readCurrent(vigil.config.tenant, 'Patient', id);
    if (current === undefined || current.deleted) throw new VigilError('ERR_NOT_FOUND');
    return { userId: p.userId, patient: id };
  };

  app.post<{ Params: { id: string } }>('/fhir/Patient/:id/$break-the-glass', async (request, reply) => {
    const { userId, patient } = await open(request);
    const grant = await vigil.policy.breakGlass.start(userId, patient, reasonOf(request.body));
    request.audit?.entities.push(`Patient/${patient}`);
    const outcome = infoOutcome(`Break-the-glass access to this patient's record is open until ${grant.expiresAt}; it is recorded and will be reviewed`);
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(outcome));
  });

  app.delete<{ Params: { id: string } }>('/fhir/Patient/:id/$break-the-glass', async (request, reply) => {
    const { userId, patient } = await open(request);
    if (request.audit !== undefined) request.audit.subtype = 'break-glass-stop';
    const ended = await vigil.policy.breakGlass.end(userId, patient);
    if (ended.length === 0) throw new VigilError('ERR_NOT_FOUND');
    return reply.code(204).send();
  });

  const reviewer = async (request: FastifyRequest): Promise<string> => {
    const p = await requireRole(request, vigil.tokens, REVIEW_ROLES, 'Break-the-glass review needs the privacy-officer or security-admin role');
    return p.userId ?? p.clientId;
  };

  app.get('/admin/break-glass', async (request, reply) => {
    await reviewer(request);
    if (request.audit !== undefined) request.audit.subtype = 'break-glass-list';
    const grants = (await vigil.policy.breakGlass.list()).map(grantView);
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify({ grants }));
  });

  app.post<{ Params: { id: string } }>('/admin/break-glass/:id/review', async (request, reply) => {
    const by = await reviewer(request);
    if (request.audit !== undefined) request.audit.subtype = 'break-glass-review';
    const body = objectBody(request, ['outcome', 'note']);
    if (body['outcome'] !== 'justified' && body['outcome'] !== 'unjustified') throw new VigilError('ERR_BAD_REQUEST', 'outcome must be justified or unjustified');
    if (body['note'] !== undefined && (typeof body['note'] !== 'string' || body['note'].length > 2000)) throw new VigilError('ERR_BAD_REQUEST', 'note must be a string of at most 2000 characters');
    if (!/^[0-9a-f-]{36}$/.test(request.params.id)) throw new VigilError('ERR_NOT_FOUND');
    const reviewed = await vigil.policy.breakGlass.review(request.params.id, by, body['outcome'], body['note'] as string | undefined);
    if (reviewed === undefined) throw new VigilError('ERR_NOT_FOUND');
    request.audit?.entities.push(`break-glass/${reviewed.id}`);
    request.audit?.patients.push(reviewed.patient);
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(grantView(reviewed)));
  });
}
