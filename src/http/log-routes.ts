import type { FastifyInstance } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import type { Principal } from '../auth/index.js';
import { authenticate } from './fhir-request.js';

const LOG_ROLES = new Set(['security-admin', 'privacy-officer']);

/**
 * The transparency log over HTTP: the latest signed checkpoint and the public key are public
 * (witnesses and auditors fetch them); proofs and on-demand checkpoints need a security role.
 */
export function registerLogRoutes(app: FastifyInstance, vigil: Vigil): void {
  const officer = async (request: Parameters<typeof authenticate>[0]): Promise<Principal> => {
    const principal = await authenticate(request, vigil.tokens);
    if (!principal.roles.some((r) => LOG_ROLES.has(r))) throw new VigilError('ERR_SCOPE', 'Only security and privacy roles may use the log endpoints');
    return principal;
  };

  app.get('/log/checkpoint', async (_request, reply) => {
    const cp = await vigil.log.latest();
    if (cp === undefined) throw new VigilError('ERR_NOT_FOUND', 'No checkpoint has been signed yet');
    return reply.header('content-type', 'text/plain; charset=utf-8').send(cp.note);
  });

  app.get('/log/key', async (_request, reply) => reply.header('content-type', 'text/plain; charset=utf-8').send(`${vigil.log.verifierKey}\n`));

  app.post('/log/checkpoint', async (request, reply) => {
    await officer(request);
    const cp = await vigil.log.checkpoint();
    return reply.header('content-type', 'text/plain; charset=utf-8').send(cp?.note ?? '');
  });

  app.get<{ Querystring: { position?: string } }>('/log/proof/inclusion', async (request, reply) => {
    await officer(request);
    const position = Number(request.query.position);
    if (!Number.isInteger(position) || position < 1) throw new VigilError('ERR_BAD_REQUEST', 'position must be a positive integer');
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(await vigil.log.inclusion(position)));
  });

  app.get<{ Querystring: { from?: string; to?: string } }>('/log/proof/consistency', async (request, reply) => {
    await officer(request);
    const from = Number(request.query.from);
    const to = Number(request.query.to);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < 1) throw new VigilError('ERR_BAD_REQUEST', 'from and to must be tree sizes');
    return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(await vigil.log.consistency(from, to)));
  });
}
