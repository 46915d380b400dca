import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Vigil } from '../runtime/index.js';
import { installErrorHandlers } from './errors.js';
import { parseFormBody, parseJsonBody } from './json-body.js';
import { addSecurityHeaders } from './security-headers.js';
import { registerFhirRoutes } from './fhir-routes.js';
import { registerOAuthRoutes } from './oauth-routes.js';

export interface AppOptions {
  readonly logger: Logger;
}

/**
 * Builds the Fastify application: hardened body parsing, security headers, FHIR and OAuth routes.
 * It does not listen; `startServer` does, and tests call `app.inject()`.
 */
export async function buildApp(vigil: Vigil, options: AppOptions): Promise<FastifyInstance> {
  const { config } = vigil;
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined;
  const serverOptions: FastifyServerOptions = {
    loggerInstance: options.logger,
    // Fastify's own request lines would carry the URL; ours (below) carry the route pattern only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.behindTlsProxy,
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 128, caseSensitive: true, ignoreTrailingSlash: false },
    return503OnClosing: true,
    ...(tls ? { https: { cert: readFileSync(config.tlsCert ?? ''), key: readFileSync(config.tlsKey ?? ''), minVersion: 'TLSv1.2' as const } } : {}),
  };
  const app = Fastify(serverOptions) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/fhir+json', 'application/json'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string, config.jsonDepthLimit));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  addSecurityHeaders(app, tls || config.behindTlsProxy);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });
  // One line per request: the route pattern, never the URL (ids and search values stay out of logs).
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? '(no route)', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  installErrorHandlers(app);
  registerOAuthRoutes(app, vigil);
  registerFhirRoutes(app, vigil);
  await app.ready();
  return app;
}
