import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Vigil } from '../runtime/index.js';
import { errorOutcome } from '../fhir/index.js';
import { installErrorHandlers, sendError } from './errors.js';
import { FormBody, parseJsonBody } from './json-body.js';
import { addSecurityHeaders, applySecurityHeaders, securityHeaders } from './security-headers.js';
import { registerFhirRoutes } from './fhir-routes.js';
import { registerOAuthRoutes } from './oauth-routes.js';
import { registerSearchRoutes } from './search-routes.js';
import { installAuditHooks } from './audit-hooks.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerAccessReportRoutes } from './access-report-routes.js';
import { registerLogRoutes } from './log-routes.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerBreakGlassRoutes } from './break-glass-routes.js';
import { registerBackupRoutes, type BackupStatusSource } from './backup-routes.js';
import { registerDetectRoutes } from './detect-routes.js';
import { installModeGuard } from './mode-guard.js';

export interface AppOptions {
  readonly logger: Logger;
  /** The scheduled backups, whose status `GET /admin/backups` shows (absent: none scheduled). */
  readonly backups?: BackupStatusSource;
}

/**
 * Builds the Fastify application: hardened body parsing, security headers, FHIR and OAuth routes.
 * It does not listen; `startServer` does, and tests call `app.inject()`.
 */
export async function buildApp(vigil: Vigil, options: AppOptions): Promise<FastifyInstance> {
  const { config } = vigil;
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined;
  const headers = securityHeaders(tls || config.behindTlsProxy);
  const serverOptions: FastifyServerOptions = {
    loggerInstance: options.logger,
    // Fastify's own request lines would carry the URL; ours (below) carry the route pattern only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // Forwarded headers are believed only from the configured proxies, never from any sender.
    trustProxy: config.behindTlsProxy ? config.trustedProxies : false,
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: 128, caseSensitive: true, ignoreTrailingSlash: false },
    return503OnClosing: true,
    // Malformed HTTP (bad bytes in the request line, oversized headers) never reaches Fastify:
    // answer it on the raw socket, still as an OperationOutcome with the security headers.
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || !socket.writable) return;
      const status = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify(errorOutcome('ERR_BAD_REQUEST', 'The request is malformed'));
      const head = [`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`, 'content-type: application/fhir+json; charset=utf-8', `content-length: ${Buffer.byteLength(body)}`, 'cache-control: no-store', 'connection: close'];
      for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
      socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
    },
    // Fastify's own early errors (bad URL encoding, over-long path segments) skip the hooks:
    // give them the same headers and the same OperationOutcome as every other error.
    frameworkErrors: (err, request, reply) => {
      applySecurityHeaders(request, reply, headers);
      sendError(request, reply, err);
    },
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
    done(null, new FormBody(body as string));
  });

  addSecurityHeaders(app, headers);
  // One line per request: the route pattern, never the URL (ids and search values stay out of logs).
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? '(no route)', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  installErrorHandlers(app);
  // Before the routes' own hooks, so a request refused by authentication is audited too.
  installAuditHooks(app, vigil);
  registerOAuthRoutes(app, vigil);
  registerFhirRoutes(app, vigil);
  registerSearchRoutes(app, vigil);
  registerAuditRoutes(app, vigil);
  registerAccessReportRoutes(app, vigil);
  registerLogRoutes(app, vigil);
  registerAdminRoutes(app, vigil);
  registerBreakGlassRoutes(app, vigil);
  registerBackupRoutes(app, vigil, options.backups);
  registerDetectRoutes(app, vigil);
  installModeGuard(app, vigil.detection.mode);
  await app.ready();
  return app;
}
