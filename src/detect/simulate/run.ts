import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { openVigil } from '../../runtime/index.js';
import { createLogger, freePort, startServer } from '../../http/index.js';
import { createRules } from '../rules/index.js';
import { ATTACKS, inject, type Injected } from './attacks.js';
import { score, type RuleScore } from './score.js';
import { runTraffic } from './traffic.js';
import { buildWorld } from './world.js';

export interface SimulateOptions {
  readonly patients: number;
  readonly minutes: number;
  /** Mean pause between a benign actor's steps, in ms (default 1500). */
  readonly thinkMs?: number;
  /** Loops keeping the server at full load (default 4). */
  readonly loadWorkers?: number;
  readonly progress?: (message: string) => void;
}

export interface SimulateReport {
  readonly rules: Record<string, RuleScore>;
  readonly overall: RuleScore;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly alerts: number;
  readonly collateral: number;
  readonly requests: number;
  readonly errors: number;
  readonly injected: number;
  readonly patients: number;
  readonly minutes: number;
}

/**
 * `vigil simulate`: a throwaway Vigil on loopback with a synthetic hospital, benign labelled
 * traffic for `minutes` (clinicians and nurses on their own patients, front desk on today's
 * appointments, billing on open accounts, plus load), and every attack kind injected at spread
 * times. The detection engine runs as in the server; its alerts are scored against what was
 * injected.
 */
export async function simulate(o: SimulateOptions): Promise<SimulateReport> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-simulate-'));
  const say = o.progress ?? (() => undefined);
  try {
    const config = loadConfig({ VIGIL_LOG_LEVEL: 'silent', VIGIL_TOKEN_RATE_LIMIT: '100000', VIGIL_CHECKPOINT_INTERVAL: '0' }, { dataDir: dir, host: '127.0.0.1', port: await freePort('127.0.0.1') });
    const vigil = await openVigil(config, { create: true });
    say(`building a hospital of ${o.patients} patients`);
    const world = await buildWorld(vigil, o.patients);
    const server = await startServer(vigil, createLogger(config));
    const base = server.address;
    try {
      const until = Date.now() + o.minutes * 60_000;
      say(`running ${o.minutes} minute(s) of traffic with ${ATTACKS.length} attacks injected`);
      const traffic = runTraffic(base, world, until, o.thinkMs ?? 1500, o.loadWorkers ?? 4);
      const injected: Injected[] = [];
      const start = Date.now();
      const span = until - start;
      for (let i = 0; i < ATTACKS.length; i++) {
        const attack = ATTACKS[i];
        if (attack === undefined) continue;
        // Spread over the run, so each attack lands in the middle of ordinary work.
        const at = start + span * ((i + 0.5) / ATTACKS.length);
        await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
        const principal = await inject(attack.kind, base, world, {
          disable: async (userId) => {
            const user = await vigil.users.get(userId);
            if (user !== undefined) await vigil.users.disable(user.username);
          },
          liftReadOnly: async () => {
            await vigil.detection.mode.set('read-write', 'simulation: lifted after the burst was seen', 'simulate');
          },
        });
        injected.push({ kind: attack.kind, rule: attack.rule, principal, at: Date.now() });
        say(`injected ${attack.kind}`);
      }
      const stats = await traffic;
      // Let the engine see the last entries before scoring.
      await new Promise((r) => setTimeout(r, 500));
      await vigil.detection.engine.drain();
      const alerts = await vigil.detection.alerts.list();
      const scored = score(alerts, injected, createRules().map((r) => r.name));
      const latency = vigil.detection.engine.latency();
      return {
        rules: scored.rules,
        overall: scored.overall,
        latencyMs: { p50: latency.p50, p99: latency.p99 },
        alerts: alerts.length,
        collateral: scored.collateral,
        requests: stats.requests,
        errors: stats.errors,
        injected: injected.length,
        patients: o.patients,
        minutes: o.minutes,
      };
    } finally {
      await server.close();
      await vigil.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
