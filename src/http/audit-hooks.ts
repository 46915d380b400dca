import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { outcomeOf, type AuditAction, type AuditDraft } from '../audit/trail.js';
import type { Vigil } from '../runtime/index.js';
import { patientsOf } from '../fhir/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    audit?: AuditDraft;
    /** The error code a refused or failed request ended with. */
    auditReason?: string;
    /** The resource the URL addresses (`Type/id`), named in the entry when nothing else is. */
    auditTarget?: string;
  }
}

/** The restful interaction and BALP action of a route. */
function interaction(method: string, route: string | undefined): { subtype: string; action: AuditAction } {
  // HEAD is GET without the body: it discloses the same, so it is audited the same way.
  switch (`${method === 'HEAD' ? 'GET' : method} ${route ?? ''}`) {
    case 'GET /fhir/metadata':
      return { subtype: 'capabilities', action: 'R' };
    case 'POST /fhir/:type':
      return { subtype: 'create', action: 'C' };
    case 'GET /fhir/:type/:id':
      return { subtype: 'read', action: 'R' };
    case 'GET /fhir/:type/:id/_history/:vid':
      return { subtype: 'vread', action: 'R' };
    case 'PUT /fhir/:type/:id':
      return { subtype: 'update', action: 'U' };
    case 'DELETE /fhir/:type/:id':
      return { subtype: 'delete', action: 'D' };
    case 'GET /fhir/:type/:id/_history':
      return { subtype: 'history-instance', action: 'R' };
    case 'GET /fhir/:type/_history':
      return { subtype: 'history-type', action: 'R' };
    case 'GET /fhir/_history':
      return { subtype: 'history-system', action: 'R' };
    case 'GET /fhir/Patient/:id/$access-report':
      return { subtype: 'operation', action: 'E' };
    case 'GET /fhir/AuditEvent/:id':
      return { subtype: 'read', action: 'R' };
    case 'GET /fhir/AuditEvent':
    case 'GET /fhir/:type':
    case 'POST /fhir/:type/_search':
      return { subtype: 'search-type', action: 'E' };
    case 'POST /fhir':
      return { subtype: 'batch-transaction', action: 'E' };
    case 'POST /oauth2/token':
      return { subtype: 'token', action: 'E' };
    default:
      if (route?.startsWith('/oauth2/') === true) return { subtype: route.slice('/oauth2/'.length), action: 'E' };
      if (route?.startsWith('/admin/') === true) return { subtype: `admin-${route.slice('/admin/'.length).split('/')[0] ?? ''}`, action: method === 'GET' ? 'R' : 'E' };
      return { subtype: 'unknown', action: 'E' };
  }
}

/** Adds what a response disclosed (resources and their patients) to the request's audit entry. */
export function disclosed(request: FastifyRequest, resources: readonly Resource[], fhirBaseUrl: string, versionOf?: (r: Resource) => string | undefined): void {
  const draft = request.audit;
  if (draft === undefined) return;
  for (const r of resources) {
    const version = versionOf?.(r);
    draft.entities.push(`${r.resourceType}/${r.id ?? ''}${version === undefined ? '' : `/_history/${version}`}`);
    draft.patients.push(...patientsOf(r, fhirBaseUrl));
  }
}

/**
 * Every request to /fhir and /oauth2 gets an audit entry, whether it succeeded, failed or was
 * refused: writes record theirs inside their own transaction; everything else is recorded here,
 * before the response leaves, so no answer goes out unaudited.
 */
export function installAuditHooks(app: FastifyInstance, vigil: Vigil): void {
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/fhir') && !request.url.startsWith('/oauth2/') && !request.url.startsWith('/admin/')) return;
    const { subtype, action } = interaction(request.method, request.routeOptions.url);
    const params = request.params as { type?: string; id?: string } | undefined;
    const type = params?.type;
    // The addressed resource is named even when the request is refused, so attempts show up per patient.
    const target = type !== undefined && params?.id !== undefined ? `${type}/${params.id}` : undefined;
    if (target !== undefined) request.auditTarget = target;
    request.audit = {
      // Sign-in, tokens and administration are security events; handlers refine the subtype
      // (`login`, `mfa`, `logout`, `user-add`...) and name the user once it is known.
      type: request.url.startsWith('/fhir') ? 'rest' : 'security',
      subtype,
      action,
      address: request.ip,
      requestId: request.id,
      entities: [],
      patients: [],
      ...(type === undefined ? {} : { resourceType: type }),
    };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const draft = request.audit;
    if (draft === undefined || draft.recorded === true) return payload;
    if (request.principal !== undefined) {
      draft.client ??= request.principal.clientId;
      if (request.principal.userId !== undefined) draft.user ??= request.principal.userId;
    }
    draft.status = reply.statusCode;
    if (reply.statusCode >= 400) {
      // A refused or failed write stored nothing: the versions it had named were rolled back with
      // it (the patients it concerned stay: the attempt is theirs to see).
      draft.entities = draft.entities.filter((e) => !e.includes('/_history/'));
    }
    if (draft.entities.length === 0 && request.auditTarget !== undefined) {
      draft.entities.push(request.auditTarget);
      if (request.auditTarget.startsWith('Patient/')) draft.patients.push(request.auditTarget.slice('Patient/'.length));
    }
    draft.outcome = outcomeOf(reply.statusCode);
    if (request.auditReason !== undefined) draft.reason = request.auditReason;
    await vigil.repository.trail.record(draft);
    return payload;
  });
}
