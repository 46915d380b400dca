import { finding, fhirUrl, originOf, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { header, type Exchange } from '../http-client.js';
import { MAP } from '../mappings.js';

/** Requests that make a server take an error path, without changing anything. */
const ERROR_PROBES = ['Patient/%27%22%3C%3E', 'Patient?birthdate=not-a-date', 'Patient?_count=abc', 'VigilScanNoSuchType', 'Patient?_sort=%00'];

/** Text that only a stack trace, a framework's debug page or a raw exception contains. */
const TRACE_PATTERNS: readonly RegExp[] = [
  /\bat [\w$.<>]+ \((?:file:\/\/)?\/?[\w./\\-]+:\d+:\d+\)/, // Node / V8 frames
  /Traceback \(most recent call last\)/, // Python
  /\bat [\w$.]+\([\w]+\.java:\d+\)/, // Java frames
  /(?:java|javax|org\.hibernate|org\.springframework)\.[\w.]+(?:Exception|Error)\b/,
  /System\.[\w.]+Exception|Server Error in '\/' Application/, // .NET
  /node_modules\/[\w@./-]+\.js/,
  /Whitelabel Error Page|<b>Fatal error<\/b>|Stack trace:/,
];

/** Headings of the listings web servers make for folders without an index page. */
const LISTING = /<title>\s*(Index of \/|Directory listing for)|<h1>\s*Index of \/|\[To Parent Directory\]/i;
const LISTING_PATHS = ['/', '/files/', '/static/', '/uploads/', '/backup/', '/logs/'];

/** Methods an API has no use for; each one is more surface. */
const NEEDLESS = ['TRACE', 'TRACK', 'CONNECT', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'DEBUG'];

async function verboseErrors(ctx: ScanContext): Promise<void> {
  const token = ctx.identities[0]?.token;
  for (const probe of ERROR_PROBES) {
    const e = await ctx.client.request('GET', fhirUrl(ctx, probe), token === undefined ? {} : { token });
    if (e.status < 400 || !TRACE_PATTERNS.some((p) => p.test(e.body))) continue;
    ctx.add(finding('verbose-errors', 'medium', 'disclosure', 'Error responses include stack traces or internal details', evidenceOf(e, { bodyMax: 400 }),
      'Answer errors with a short generic message (a FHIR OperationOutcome) and log the details on the server only; turn off debug or development mode in production.', MAP.misconfig));
    return;
  }
}

async function directoryListing(ctx: ScanContext): Promise<void> {
  const paths = [...new Set([...LISTING_PATHS.map((p) => `${originOf(ctx)}${p}`), `${ctx.base}/`])];
  for (const url of paths) {
    const e = await ctx.client.request('GET', url);
    if (e.status !== 200 || !LISTING.test(e.body)) continue;
    ctx.add(finding('directory-listing', 'medium', 'disclosure', 'The web server lists the contents of a folder', evidenceOf(e, { bodyMax: 300 }),
      'Turn directory listing off (nginx `autoindex off;`, Apache `Options -Indexes`) and keep nothing under the web root that is not meant to be served.', MAP.misconfig));
    return;
  }
}

function allowed(e: Exchange): string[] {
  return (header(e, 'allow') ?? header(e, 'access-control-allow-methods') ?? '').split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '');
}

async function methods(ctx: ScanContext): Promise<void> {
  const marker = 'vigil-scan-trace-probe';
  // TRACE echoes the request back; a page script could then read headers it should never see.
  const trace = await ctx.client.request('TRACE', `${originOf(ctx)}/`, { headers: { 'x-vigil-scan': marker } });
  if (trace.status === 200 && trace.body.includes(marker)) {
    ctx.add(finding('trace-enabled', 'medium', 'disclosure', 'The server answers TRACE and echoes the request', evidenceOf(trace, { bodyMax: 200 }), 'Disable TRACE and TRACK (nginx refuses them by default; Apache `TraceEnable off`).', MAP.misconfig));
  }
  const options = [await ctx.client.request('OPTIONS', `${originOf(ctx)}/`), await ctx.client.request('OPTIONS', `${ctx.base}/metadata`)];
  for (const e of options) {
    const needless = allowed(e).filter((m) => NEEDLESS.includes(m));
    if (needless.length === 0) continue;
    ctx.add(finding('needless-methods', 'low', 'disclosure', `The server offers methods an API does not need: ${needless.join(', ')}`, evidenceOf(e, { headers: ['allow', 'access-control-allow-methods'], bodyMax: 0 }),
      'Allow only the methods the API uses (GET, POST, PUT, PATCH, DELETE, OPTIONS where CORS needs it) and refuse the rest with 405.', MAP.misconfig));
    return;
  }
}

export const disclosureCheck: Check = {
  name: 'disclosure',
  async run(ctx) {
    await verboseErrors(ctx);
    await directoryListing(ctx);
    await methods(ctx);
  },
};
