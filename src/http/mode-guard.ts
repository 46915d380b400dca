import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { ServerMode } from '../detect/index.js';

/** Whether a request would write: any /fhir write, except searches by POST and Bundles that only read. */
function writes(request: FastifyRequest): boolean {
  const route = request.routeOptions.url ?? '';
  if (!route.startsWith('/fhir')) return false;
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false;
  if (request.method === 'POST' && route.endsWith('/_search')) return false;
  if (request.method === 'POST' && route === '/fhir') {
    const entries = (request.body as { entry?: unknown } | undefined)?.entry;
    return !(Array.isArray(entries) && entries.every((e) => (e as { request?: { method?: unknown } } | null)?.request?.method === 'GET'));
  }
  return true;
}

/**
 * In read-only mode every write answers 503 (`ERR_READ_ONLY_MODE`) before it runs, while reads
 * go on: care continues from the record while an attack is contained. Runs after authentication,
 * so the refusal is audited with who tried.
 */
export function installModeGuard(app: FastifyInstance, mode: ServerMode): void {
  app.addHook('preHandler', async (request) => {
    if (!writes(request)) return;
    if ((await mode.get()).mode === 'read-only') throw new VigilError('ERR_READ_ONLY_MODE');
  });
}
