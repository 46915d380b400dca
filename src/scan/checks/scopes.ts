import { finding, fhirUrl, type Check, type ScanContext } from '../context.js';
import { evidenceOf } from '../evidence.js';
import { MAP } from '../mappings.js';
import { bundleEntries } from '../fhir-probe.js';
import type { Identity } from '../identities.js';

/** The resource types a token may read and create: `all`, or a list. */
export interface ScopeGrants {
  readonly read: 'all' | ReadonlySet<string>;
  readonly create: 'all' | ReadonlySet<string>;
}

/**
 * Reads SMART scopes, v1 (`patient/Observation.read`, `user/*.write`) and v2
 * (`patient/Observation.rs`, `system/*.cruds`, with or without a `?` restriction).
 * @example scopeGrants('patient/Patient.rs').read // Set { 'Patient' }
 */
export function scopeGrants(scope: string): ScopeGrants {
  let readAll = false;
  let createAll = false;
  const read = new Set<string>();
  const create = new Set<string>();
  for (const s of scope.split(/\s+/)) {
    const m = /^(?:patient|user|system)\/([A-Za-z]+|\*)\.([a-z*]+)(?:\?.*)?$/.exec(s);
    if (m === null || m[1] === undefined || m[2] === undefined) continue;
    const [type, perms] = [m[1], m[2]];
    const v1 = perms === 'read' || perms === 'write' || perms === '*';
    const canRead = v1 ? perms !== 'write' : /[rs]/.test(perms);
    const canCreate = v1 ? perms !== 'read' : perms.includes('c');
    if (canRead && type === '*') readAll = true;
    else if (canRead) read.add(type);
    if (canCreate && type === '*') createAll = true;
    else if (canCreate) create.add(type);
  }
  return { read: readAll ? 'all' : read, create: createAll ? 'all' : create };
}

const READ_PROBES = ['Observation', 'Condition', 'Encounter', 'MedicationRequest', 'Patient'];

async function readsOutsideScope(ctx: ScanContext, who: Identity, grants: ScopeGrants): Promise<boolean> {
  if (grants.read === 'all') return false;
  const granted = grants.read;
  for (const type of READ_PROBES.filter((t) => !granted.has(t)).slice(0, 2)) {
    const e = await ctx.client.request('GET', fhirUrl(ctx, `${type}?_count=1`), { token: who.token });
    if (e.status !== 200 || !bundleEntries(e.body).some((x) => x.ref.startsWith(`${type}/`))) continue;
    ctx.add(finding('scope-not-enforced', 'high', 'auth', `A token scoped to "${who.scope ?? ''}" can read ${type} records`, `identity ${who.label}, scope: ${who.scope ?? ''}\n${evidenceOf(e, { bodyMax: 300 })}`,
      'Check the token’s scopes on every interaction and resource type (and inside searches and includes); a narrowed token must never reach more than its scopes say.', MAP.scope));
    return true;
  }
  return false;
}

/** With --allow-write only: a create the scopes do not allow, deleted again if it went through. */
async function createOutsideScope(ctx: ScanContext, who: Identity, grants: ScopeGrants): Promise<void> {
  if (grants.create === 'all' || grants.create.has('Basic')) return;
  const body = JSON.stringify({ resourceType: 'Basic', code: { text: 'vigil scan probe: safe to delete' } });
  const e = await ctx.client.request('POST', fhirUrl(ctx, 'Basic'), { token: who.token, body, headers: { 'content-type': 'application/fhir+json' } });
  if (e.status !== 201 && e.status !== 200) return;
  ctx.add(finding('scope-not-enforced', 'high', 'auth', `A token scoped to "${who.scope ?? ''}" can create records`, `identity ${who.label}, scope: ${who.scope ?? ''}\n${evidenceOf(e, { headers: ['location'], bodyMax: 200 })}`,
    'Check the token’s scopes on every write; a read-only token must never create, update or delete.', MAP.scope));
  const location = /^(.*\/Basic\/[^/]+)/.exec(e.headers.location ?? '')?.[1];
  if (location !== undefined) await ctx.client.request('DELETE', new URL(location, ctx.base + '/').href, { token: who.token });
}

/** Scopes not enforced: every identity whose scopes are known is tried just outside them. */
export const scopesCheck: Check = {
  name: 'scopes',
  async run(ctx) {
    for (const who of ctx.identities) {
      if (who.scope === undefined) continue;
      const grants = scopeGrants(who.scope);
      if (await readsOutsideScope(ctx, who, grants)) return;
      if (ctx.options.allowWrite) await createOutsideScope(ctx, who, grants);
    }
  },
};
