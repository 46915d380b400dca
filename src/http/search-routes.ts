import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { Vigil } from '../runtime/index.js';
import { clauseTypes, isKnownResourceType, parseSearch, queryKey, searchBundle, infoOutcome, type SearchRequest } from '../fhir/index.js';
import { FHIR_JSON, checkFormat, gateOf } from './fhir-request.js';
import { FormBody } from './json-body.js';
import { disclosed } from './audit-hooks.js';

interface TypeParams {
  type: string;
}

/** The name/value pairs of a search: the query string, plus the form body of `POST _search`. */
function pairs(request: FastifyRequest): [string, string][] {
  const out: [string, string][] = [];
  const q = request.url.indexOf('?');
  if (q >= 0) out.push(...new URLSearchParams(request.url.slice(q + 1)));
  if (request.method === 'POST' && request.body instanceof FormBody) out.push(...request.body.pairs());
  return out;
}

function lenient(request: FastifyRequest): boolean {
  const prefer = request.headers['prefer'];
  return typeof prefer === 'string' && /(^|[;,\s])handling=lenient\b/.test(prefer);
}

/** FHIR search: `GET /fhir/{type}?...` and `POST /fhir/{type}/_search`. */
export function registerSearchRoutes(app: FastifyInstance, vigil: Vigil): void {
  const base = vigil.config.fhirBaseUrl;

  const search = async (request: FastifyRequest<{ Params: TypeParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    checkFormat(request);
    const type = request.params.type;
    if (!isKnownResourceType(type)) throw new VigilError('ERR_UNKNOWN_TYPE', 'The resource type is not known');
    const g = gateOf(request);
    g.require(type, 's');
    const parsed: SearchRequest = parseSearch(type, pairs(request), lenient(request));
    for (const clause of parsed.clauses) for (const t of clauseTypes(clause)) g.require(t, 's');
    const key = queryKey(parsed);
    let cursor: Record<string, unknown> | undefined;
    if (parsed.cursor !== undefined) {
      cursor = vigil.cursors.verify(parsed.cursor);
      // A cursor pages only through the query that made it.
      if (cursor['k'] !== 'search' || cursor['q'] !== key) throw new VigilError('ERR_BAD_REQUEST', 'The paging cursor is not valid');
    }
    // The policy filters inside the search: matches, chains, includes and totals see only what the caller may.
    const page = await vigil.repository.search(parsed, cursor, g);
    // Included resources of types the token may not read are left out, not refused.
    const visible = { ...page, includes: page.includes.filter((f) => g.allows(f.type, 'r')) };
    disclosed(request, [...visible.matches, ...visible.includes].map((f) => f.resource), base);
    if (request.audit !== undefined) request.audit.queryParams = parsed.canonical.map(([name]) => name);
    const query = new URLSearchParams(parsed.canonical).toString();
    const url = (extra?: Record<string, unknown>): string => {
      const q = extra === undefined ? query : [query, `_cursor=${vigil.cursors.sign({ k: 'search', q: key, ...extra })}`].filter((s) => s !== '').join('&');
      return `${base}/${type}${q === '' ? '' : `?${q}`}`;
    };
    const bundle = searchBundle(parsed, visible, {
      fhirBaseUrl: base,
      selfUrl: url(cursor === undefined ? undefined : Object.fromEntries(Object.entries(cursor).filter(([k]) => k !== 'k' && k !== 'q'))),
      ...(page.next === undefined ? {} : { nextUrl: url(page.next) }),
      ...(page.previous === undefined ? {} : { previousUrl: url(page.previous) }),
      ...(parsed.ignored.length === 0 ? {} : { warning: { ...infoOutcome(`${parsed.ignored.length} unknown search parameter(s) were ignored`), issue: [{ severity: 'warning', code: 'not-supported', details: { text: `Ignored: ${parsed.ignored.join(', ')}` } }] } }),
    });
    return reply.header('content-type', FHIR_JSON).send(JSON.stringify(bundle));
  };

  app.get<{ Params: TypeParams }>('/fhir/:type', search);
  app.post<{ Params: TypeParams }>('/fhir/:type/_search', search);
}
