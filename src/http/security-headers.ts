import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Headers every response carries. Responses hold health data, so nothing may cache them (unless a
 * route says otherwise), frame them or run them as a page; HSTS only where TLS is in front (it
 * would break plain loopback use).
 */
export function securityHeaders(tls: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
  if (tls) headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

/** Puts the security headers and the request id (the key to its log lines) on a reply. */
export function applySecurityHeaders(request: FastifyRequest, reply: FastifyReply, headers: Record<string, string>): void {
  reply.headers(headers).header('x-request-id', request.id);
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

export function addSecurityHeaders(app: FastifyInstance, headers: Record<string, string>): void {
  app.addHook('onSend', async (request, reply, payload) => {
    applySecurityHeaders(request, reply, headers);
    return payload;
  });
}
