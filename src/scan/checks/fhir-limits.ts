import { finding, fhirUrl, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { MAP } from '../mappings.js';
import { bundleEntries } from '../fhir-probe.js';
import { jsonObject } from '../discovery.js';

/** More than this many entries in one page means the server did not cap `_count`. */
export const COUNT_LIMIT = 1000;

function tokenOf(ctx: ScanContext): { token?: string } {
  const a = ctx.identities[0];
  return a === undefined ? {} : { token: a.token };
}

async function uncappedCount(ctx: ScanContext): Promise<void> {
  // Up to 16 MiB is read to count; a cut body is counted by its fullUrl fields.
  const e = await ctx.client.request('GET', fhirUrl(ctx, 'Patient?_count=100000'), { ...tokenOf(ctx), maxBytes: 16 * 1024 * 1024 });
  if (e.status !== 200) return;
  const entries = e.truncated ? (e.body.match(/"fullUrl"\s*:/g) ?? []).length : bundleEntries(e.body).length;
  if (entries <= COUNT_LIMIT) return;
  ctx.add(finding('count-uncapped', 'medium', 'limits', `_count=100000 returned ${entries}${e.truncated ? ' or more' : ''} entries in one page`, `${evidenceOf(e, { bodyMax: 0 })}\n< ${e.body.length} bytes read${e.truncated ? ' (cut)' : ''}, ${entries} entries`,
    `Cap _count (e.g. at ${COUNT_LIMIT}) and page the rest; one request must not be able to pull a whole population.`, MAP.limits));
}

/** An unknown parameter that silently drops turns a mistyped filter into "return everything". */
async function unknownParams(ctx: ScanContext): Promise<void> {
  const e = await ctx.client.request('GET', fhirUrl(ctx, 'Patient?vigil-scan-unknown-param=1&_count=1'), tokenOf(ctx));
  const bundle = e.status === 200 ? jsonObject(e.body) : undefined;
  if (bundle?.['resourceType'] !== 'Bundle') return;
  // A server may ignore it and say so in an OperationOutcome entry; silence is the problem.
  const entries = (bundle['entry'] as Record<string, unknown>[] | undefined) ?? [];
  const warned = entries.some((x) => (x['resource'] as Record<string, unknown> | undefined)?.['resourceType'] === 'OperationOutcome');
  if (warned) return;
  ctx.add(finding('unknown-params-ignored', 'low', 'limits', 'Unknown search parameters are silently ignored', evidenceOf(e, { bodyMax: 200 }),
    'Refuse unknown search parameters with 400 (FHIR `Prefer: handling=strict` as the default), or at least report them in an OperationOutcome entry.', MAP.limits));
}

export const fhirLimitsCheck: Check = {
  name: 'fhir limits',
  async run(ctx) {
    await uncappedCount(ctx);
    await unknownParams(ctx);
  },
};
