import type { FastifyInstance } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import { roleNeeds, type User } from '../auth/index.js';
import { adminGuard, adminOf, auditAdmin, objectBody, optString, optStrings, sendJson } from './admin-guard.js';
import { registerAdminClientRoutes } from './admin-client-routes.js';

const USER_FIELDS = ['username', 'roles', 'fhirUser', 'organizations', 'clearances', 'password'];

/**
 * The admin API (security-admin role only; JSON in and out, not FHIR): users, clients, roles and
 * lockouts. Every request is a security audit event (audit-hooks.ts) whose subtype each handler
 * names precisely, with ids only: user names and passwords never reach the audit trail.
 */
export function registerAdminRoutes(app: FastifyInstance, vigil: Vigil): void {
  const preHandler = adminGuard(vigil.tokens);
  const { users } = vigil;

  const userOf = async (id: string): Promise<User> => {
    const user = await users.get(id);
    if (user === undefined) throw new VigilError('ERR_NOT_FOUND', 'No such user');
    return user;
  };

  app.get('/admin/roles', { preHandler }, async (request, reply) => {
    auditAdmin(request, 'role-list');
    return sendJson(reply, 200, { roles: roleNeeds() });
  });

  app.get('/admin/users', { preHandler }, async (request, reply) => {
    auditAdmin(request, 'user-list');
    return sendJson(reply, 200, { users: await users.list() });
  });

  app.post('/admin/users', { preHandler }, async (request, reply) => {
    auditAdmin(request, 'user-add');
    const body = objectBody(request, USER_FIELDS);
    const username = optString(body, 'username');
    const password = optString(body, 'password');
    const roles = optStrings(body, 'roles');
    if (username === undefined || password === undefined || roles === undefined) throw new VigilError('ERR_BAD_REQUEST', 'username, roles and password are required');
    const fhirUser = optString(body, 'fhirUser');
    const organizations = optStrings(body, 'organizations');
    const clearances = optStrings(body, 'clearances');
    const user = await users.add({
      username,
      roles,
      password,
      ...(fhirUser === undefined ? {} : { fhirUser }),
      ...(organizations === undefined ? {} : { organizations }),
      ...(clearances === undefined ? {} : { clearances }),
    });
    request.audit?.entities.push(`user/${user.id}`);
    return sendJson(reply, 201, user);
  });

  app.get('/admin/users/:id', { preHandler }, async (request, reply) => {
    const { id } = request.params as { id: string };
    auditAdmin(request, 'user-read', `user/${id}`);
    return sendJson(reply, 200, await userOf(id));
  });

  for (const action of ['disable', 'enable', 'mfa-reset'] as const) {
    app.post(`/admin/users/:id/${action}`, { preHandler }, async (request, reply) => {
      const { id } = request.params as { id: string };
      auditAdmin(request, action === 'mfa-reset' ? 'mfa-reset' : `user-${action}`, `user/${id}`);
      // An admin cannot disable their own account or reset their own factor (a stolen session could).
      if (adminOf(request).userId === id && action !== 'enable') throw new VigilError('ERR_CONFLICT', 'Administrators cannot do this to their own account');
      const { username } = await userOf(id);
      const user = action === 'disable' ? await users.disable(username) : action === 'enable' ? await users.enable(username) : await users.mfaReset(username);
      // A disabled account or a reset factor ends every sign-in session (and their refresh tokens) now.
      if (action !== 'enable') await vigil.sessions.endAllForUser(user.id);
      return sendJson(reply, 200, user);
    });
  }

  app.put('/admin/users/:id/roles', { preHandler }, async (request, reply) => {
    const { id } = request.params as { id: string };
    auditAdmin(request, 'user-roles', `user/${id}`);
    const roles = optStrings(objectBody(request, ['roles']), 'roles');
    if (roles === undefined) throw new VigilError('ERR_BAD_REQUEST', 'roles is required');
    // Removing one's own security-admin role could leave nobody to administer.
    if (adminOf(request).userId === id && !roles.includes('security-admin')) throw new VigilError('ERR_CONFLICT', 'Administrators cannot drop their own security-admin role');
    const { username } = await userOf(id);
    return sendJson(reply, 200, await users.setRoles(username, roles));
  });

  app.get('/admin/lockouts', { preHandler }, async (request, reply) => {
    auditAdmin(request, 'lockout-list');
    return sendJson(reply, 200, { lockouts: await users.lockout.list() });
  });

  app.delete('/admin/lockouts/:key', { preHandler }, async (request, reply) => {
    const { key } = request.params as { key: string };
    auditAdmin(request, 'lockout-clear', `lockout/${key}`);
    if (!/^[A-Za-z0-9_-]{43}$/.test(key) || !(await users.lockout.clear(key))) throw new VigilError('ERR_NOT_FOUND', 'No such lockout');
    return reply.code(204).send();
  });

  registerAdminClientRoutes(app, vigil, preHandler);
}
