import type { World, Actor } from './world.js';

export interface TrafficStats {
  requests: number;
  errors: number;
}

const FHIR_JSON = 'application/fhir+json';

/** One HTTP call with a bearer token; the status, or 0 when the connection failed. */
export async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<number> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: FHIR_JSON, ...(body === undefined ? {} : { 'content-type': FHIR_JSON }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

function pick<T>(list: readonly T[]): T | undefined {
  return list[Math.floor(Math.random() * list.length)];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One step of a benign actor's work, as their role does it. */
async function step(base: string, a: Actor, world: World, stats: TrafficStats): Promise<void> {
  const patient = pick(a.patients);
  if (patient === undefined) return;
  const calls: [string, string, unknown?][] = [['GET', `/fhir/Patient/${patient}`]];
  if (a.role === 'clinician' || a.role === 'nurse') {
    calls.push(['GET', `/fhir/Observation?subject=Patient/${patient}`]);
    if (Math.random() < 0.3) calls.push(['POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${patient}` }, valueQuantity: { value: 60 + Math.floor(Math.random() * 40), unit: '/min' } }]);
  } else if (a.role === 'billing') {
    calls.push(['GET', `/fhir/Account?patient=Patient/${patient}`]);
  }
  for (const [method, path, body] of calls) {
    const status = await call(base, a.token, method, path, body);
    stats.requests++;
    if (status === 0 || status >= 400) stats.errors++;
  }
  void world;
}

/**
 * Benign work until `until`: every clinician, nurse, front-desk and billing actor works through
 * their shift (at most 20 of their patients, today's appointments or open accounts), a step every
 * `thinkMs` on average; and
 * `loadWorkers` loops keep the server busy with capability requests (no patient data), so the
 * alert latency is measured under full load.
 */
export async function runTraffic(base: string, world: World, until: number, thinkMs: number, loadWorkers: number): Promise<TrafficStats> {
  const stats: TrafficStats = { requests: 0, errors: 0 };
  const actors = world.benign.map(async (a) => {
    await sleep(Math.random() * thinkMs);
    while (Date.now() < until) {
      await step(base, a, world, stats);
      await sleep(thinkMs * (0.5 + Math.random()));
    }
  });
  const load = Array.from({ length: loadWorkers }, async () => {
    while (Date.now() < until) {
      await call(base, world.systemToken, 'GET', '/fhir/metadata');
      stats.requests++;
    }
  });
  await Promise.all([...actors, ...load]);
  return stats;
}
