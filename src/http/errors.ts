import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, OAuthError, VigilError, type ErrorCode } from '../errors.js';
import { errorOutcome } from '../fhir/index.js';

/** HTTP status of each error code (defined beside the codes, in src/errors.ts). */
export const STATUS: Record<ErrorCode, number> = ERROR_STATUS;

/** Fastify's own errors, turned into Vigil errors without their messages (which may quote input). */
function fromFastify(err: FastifyError): VigilError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VigilError('ERR_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new VigilError('ERR_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new VigilError('ERR_BAD_REQUEST', 'The request body is empty');
    default:
      return typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500
        ? new VigilError('ERR_BAD_REQUEST')
        : new VigilError('ERR_INTERNAL');
  }
}

/** The stack without its first line, which carries the message (and so, possibly, input). */
function stackFrames(err: unknown): string | undefined {
  return err instanceof Error && typeof err.stack === 'string' ? err.stack.split('\n').slice(1, 12).join('\n') : undefined;
}

/** Sends an error as an OperationOutcome (or, on OAuth endpoints, as an RFC 6749 error object). */
export function sendError(request: FastifyRequest, reply: FastifyReply, raw: unknown): FastifyReply {
  const err = raw instanceof VigilError ? raw : fromFastify(raw as FastifyError);
  const status = err instanceof OAuthError ? err.status : STATUS[err.code];
  request.auditReason = err instanceof OAuthError ? `ERR_OAUTH:${err.oauthError}` : err.code;
  if (status >= 500 && status !== 501) {
    request.log.error({ code: err.code, errType: (raw as Error)?.name, frames: stackFrames(raw) }, 'request failed');
  } else {
    request.log.info({ code: err.code }, 'request refused');
  }
  if (request.url.startsWith('/oauth2/')) {
    if (err.code === 'ERR_RATE_LIMITED') {
      return reply.code(429).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: 'slow_down', error_description: err.message }));
    }
    const oauth = err instanceof OAuthError ? err : new OAuthError('invalid_request', status >= 500 ? 'Server error' : err.message);
    if (oauth.status === 401) reply.header('www-authenticate', 'Basic realm="vigil"');
    return reply
      .code(status)
      .header('content-type', 'application/json; charset=utf-8')
      .header('pragma', 'no-cache')
      .send(JSON.stringify({ error: oauth.oauthError, error_description: oauth.message }));
  }
  if (err.code === 'ERR_UNAUTHENTICATED') {
    // RFC 6750 section 3.1: a request with no credentials gets no error code.
    reply.header('www-authenticate', request.headers.authorization === undefined ? 'Bearer realm="vigil"' : 'Bearer realm="vigil", error="invalid_token"');
  }
  if (err.code === 'ERR_SCOPE') reply.header('www-authenticate', 'Bearer realm="vigil", error="insufficient_scope"');
  // 5xx answers are generic: the request id is enough to find the log line.
  const message = status >= 500 && status !== 501 ? `${err.message} (request ${request.id})` : err.message;
  return reply
    .code(status)
    .header('content-type', 'application/fhir+json; charset=utf-8')
    .send(JSON.stringify(errorOutcome(err.code, message, err.issues)));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new VigilError('ERR_NOT_FOUND', 'There is nothing at this address')));
}
