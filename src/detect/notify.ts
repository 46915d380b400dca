import { createHmac } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { APP_NAME, escapeSdValue, octetFrame } from '../audit/export/index.js';
import type { SyslogWitness } from '../config/config.js';
import type { Alert } from './alerts.js';

const TIMEOUT_MS = 5000;
/** RFC 5424 severities: critical 2, error 3, warning 4, notice 5. */
const SYSLOG_SEVERITY: Record<Alert['severity'], number> = { critical: 2, high: 3, medium: 4, low: 5 };
/** Facility 13 (log audit). */
const FACILITY = 13;

export interface NotifierOptions {
  readonly webhook?: string | undefined;
  readonly webhookSecret?: string | undefined;
  readonly syslog?: SyslogWitness | undefined;
}

/** The body of a notification: the alert as the admin API shows it (ids, codes and counts only). */
export function alertJson(alert: Alert): string {
  return JSON.stringify({ alert });
}

/** `sha256=<hex>` of HMAC-SHA256 over `timestamp.body`, as the `x-vigil-signature` header carries it. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** One RFC 5424 message for an alert. */
export function alertSyslogMessage(alert: Alert, host = hostname()): string {
  const pri = FACILITY * 8 + SYSLOG_SEVERITY[alert.severity];
  const sd = `[alert@32473 id="${escapeSdValue(alert.id)}" rule="${escapeSdValue(alert.rule)}" severity="${alert.severity}"]`;
  return `<${pri}>1 ${alert.createdAt} ${host.slice(0, 255) || '-'} ${APP_NAME} - alert ${sd} ${alertJson(alert)}`;
}

/**
 * Sends each new alert to a webhook (POST, JSON, signed: `x-vigil-timestamp` and
 * `x-vigil-signature: sha256=HMAC(secret, timestamp + "." + body)`) and to a syslog receiver
 * (RFC 5424 over TCP or TLS, octet-counted). A receiver that fails is reported, never retried
 * forever: the alert is stored whatever happens.
 */
export class Notifier {
  readonly #o: NotifierOptions;

  constructor(options: NotifierOptions) {
    this.#o = options;
  }

  async notify(alert: Alert): Promise<void> {
    const jobs: Promise<void>[] = [];
    if (this.#o.webhook !== undefined && this.#o.webhookSecret !== undefined) jobs.push(this.#post(this.#o.webhook, this.#o.webhookSecret, alert));
    if (this.#o.syslog !== undefined) jobs.push(this.#syslog(this.#o.syslog, alert));
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  async #post(url: string, secret: string, alert: Alert): Promise<void> {
    const body = alertJson(alert);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-vigil-timestamp': timestamp, 'x-vigil-signature': signature(secret, timestamp, body) },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`the alert webhook answered ${res.status}`);
  }

  #syslog(target: SyslogWitness, alert: Alert): Promise<void> {
    return new Promise((resolve, reject) => {
      const frame = octetFrame(alertSyslogMessage(alert));
      const socket = target.tls ? tlsConnect({ host: target.host, port: target.port, servername: target.host }) : netConnect({ host: target.host, port: target.port });
      socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('the alert syslog receiver timed out')));
      socket.once('error', reject);
      socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.end(frame, () => resolve()));
    });
  }
}
