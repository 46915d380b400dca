import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import type { GrantType } from '../auth/index.js';
import { auditAdmin, objectBody, optString, optStrings, sendJson } from './admin-guard.js';

const CLIENT_FIELDS = ['name', 'scopes', 'roles', 'grants', 'redirectUris', 'public', 'jwksUrl'];

/** Client administration under /admin/clients (the guard is the caller's). */
export function registerAdminClientRoutes(app: FastifyInstance, vigil: Vigil, preHandler: (request: FastifyRequest) => Promise<void>): void {
  app.get('/admin/clients', { preHandler }, async (request, reply) => {
    auditAdmin(request, 'client-list');
    return sendJson(reply, 200, { clients: await vigil.clients.list() });
  });

  app.post('/admin/clients', { preHandler }, async (request, reply) => {
    const body = objectBody(request, CLIENT_FIELDS);
    const name = optString(body, 'name');
    const scopes = optString(body, 'scopes');
    if (name === undefined || scopes === undefined) throw new VigilError('ERR_BAD_REQUEST', 'name and scopes are required');
    const isPublic = body['public'];
    if (isPublic !== undefined && typeof isPublic !== 'boolean') throw new VigilError('ERR_BAD_REQUEST', 'public must be true or false');
    const grants = optStrings(body, 'grants') as GrantType[] | undefined;
    const redirectUris = optStrings(body, 'redirectUris');
    const jwksUrl = optString(body, 'jwksUrl');
    const made = await vigil.clients.create({
      name,
      scopes,
      roles: optStrings(body, 'roles') ?? [],
      ...(grants === undefined ? {} : { grants }),
      ...(redirectUris === undefined ? {} : { redirectUris }),
      ...(isPublic === undefined ? {} : { public: isPublic }),
      ...(jwksUrl === undefined ? {} : { jwksUrl }),
    });
    auditAdmin(request, 'client-add', `client/${made.clientId}`);
    // The secret is shown this once; only its hash is kept.
    return sendJson(reply, 201, made);
  });

  for (const action of ['disable', 'enable'] as const) {
    app.post(`/admin/clients/:id/${action}`, { preHandler }, async (request, reply) => {
      const { id } = request.params as { id: string };
      auditAdmin(request, `client-${action}`, `client/${id}`);
      // A client must not switch itself off (or on): it would lock the caller out, or be a way back in.
      if (request.principal?.clientId === id && request.principal.kind === 'client') throw new VigilError('ERR_CONFLICT', 'A client cannot change its own status');
      await (action === 'disable' ? vigil.clients.disable(id) : vigil.clients.enable(id));
      return sendJson(reply, 200, (await vigil.clients.list()).find((c) => c.clientId === id));
    });
  }
}
