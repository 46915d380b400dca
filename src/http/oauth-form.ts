import type { FastifyRequest } from 'fastify';
import { OAuthError } from '../errors.js';
import { FormBody } from './json-body.js';

/**
 * The form fields of an OAuth endpoint's POST. Anything but an `application/x-www-form-urlencoded`
 * body with single-valued fields is refused (RFC 6749 sections 3.1 and 3.2).
 */
export function oauthForm(request: FastifyRequest): Record<string, string> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type) || !(request.body instanceof FormBody)) {
    throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
  }
  return request.body.unique();
}
