import type { World } from './world.js';
import { call } from './traffic.js';

/** The attack kinds injected, each with the rule expected to catch it. */
export const ATTACKS: readonly { kind: string; rule: string }[] = [
  { kind: 'unexplained-access', rule: 'unexplained-access' },
  { kind: 'vip-access', rule: 'vip-access' },
  { kind: 'self-access', rule: 'self-access' },
  { kind: 'family-access', rule: 'family-access' },
  { kind: 'honeytoken', rule: 'honeytoken' },
  { kind: 'bulk-access', rule: 'bulk-access' },
  { kind: 'repeated-denials', rule: 'repeated-denials' },
  { kind: 'brute-force', rule: 'brute-force' },
  { kind: 'disabled-principal', rule: 'disabled-principal' },
  { kind: 'identity-theft', rule: 'identity-theft' },
  { kind: 'identity-theft:new-party', rule: 'identity-theft' },
  { kind: 'ransomware-burst', rule: 'ransomware-burst' },
];

export interface Injected {
  readonly kind: string;
  readonly rule: string;
  /** The principal the alert should name. */
  readonly principal: string;
  readonly at: number;
}

/** Runs one attack kind against the live server; returns whom the alert should name. */
export async function inject(kind: string, base: string, world: World, hooks: { disable(userId: string): Promise<void>; liftReadOnly(): Promise<void> }): Promise<string> {
  const a = world.attackers.get(kind);
  const token = a?.token ?? '';
  const get = (path: string): Promise<number> => call(base, token, 'GET', path);
  switch (kind) {
    case 'unexplained-access':
      await get(`/fhir/Patient/${world.targets.demographics}`);
      break;
    case 'vip-access':
      await get(`/fhir/Patient/${world.vip[0] ?? ''}`);
      break;
    case 'self-access':
      await get(`/fhir/Patient/${world.targets.self}`);
      break;
    case 'family-access':
      await get(`/fhir/Patient/${world.targets.family}`);
      break;
    case 'honeytoken':
      await get(`/fhir/Patient/${world.honeytokens[0] ?? ''}`);
      break;
    case 'bulk-access': {
      // Chart after chart, then the whole register page after page: theft, then scraping.
      for (const p of world.patients.slice(0, 60)) await get(`/fhir/Patient/${p}`);
      const perPage = Math.min(100, world.patients.length);
      for (let i = 0; i < Math.ceil(2100 / perPage); i++) await get(`/fhir/Patient?_count=${perPage}`);
      break;
    }
    case 'repeated-denials':
      for (const p of world.patients.slice(0, 10)) await get(`/fhir/Patient/${p}`);
      break;
    case 'brute-force': {
      for (let i = 0; i < 12; i++) {
        await fetch(`${base}/oauth2/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`stolen-client-${i}:guess`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        }).then((r) => r.arrayBuffer()).catch(() => undefined);
      }
      return `address/127.0.0.1`;
    }
    case 'disabled-principal':
      await hooks.disable(a?.userId ?? '');
      await get(`/fhir/Patient/${world.patients[0] ?? ''}`);
      break;
    case 'identity-theft':
      await call(base, token, 'POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Newcomer' }], identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: world.targets.ssn }] });
      break;
    case 'identity-theft:new-party': {
      const forger = world.attackers.get('identity-theft')?.token ?? '';
      const target = world.targets.ssnVictim;
      const res = await fetch(`${base}/fhir/Patient/${target}`, { headers: { authorization: `Bearer ${world.systemToken}` } });
      const current = (await res.json()) as Record<string, unknown>;
      await call(base, forger, 'PUT', `/fhir/Patient/${target}`, { ...current, address: [{ line: ['1 Mail Drop Lane'], postalCode: '99999' }], telecom: [{ system: 'phone', value: '555-0199' }] });
      await get(`/fhir/Patient/${target}`);
      break;
    }
    case 'ransomware-burst': {
      const obs = (a?.patients ?? []).flatMap((p) => (world.observations.get(p) ?? []).map((id) => ({ id, patient: p })));
      for (const { id, patient } of obs.slice(0, 40)) {
        const scrambled = Buffer.from(Array.from({ length: 240 }, () => Math.floor(Math.random() * 256))).toString('base64');
        await call(base, token, 'PUT', `/fhir/Observation/${id}`, { resourceType: 'Observation', id, status: 'amended', code: { text: 'locked' }, subject: { reference: `Patient/${patient}` }, valueString: scrambled });
      }
      // Care must go on in the simulation: an officer lifts read-only once it has been seen.
      await new Promise((r) => setTimeout(r, 1500));
      await hooks.liftReadOnly();
      break;
    }
    default:
      throw new Error(`unknown attack kind ${kind}`);
  }
  return a?.principal ?? '';
}
