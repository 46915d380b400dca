/**
 * Test fixtures for the audit export: a syslog receiver (TCP or TLS, octet-counted) on loopback,
 * a throwaway certificate made with openssl, and a quick way to write many audit entries.
 * Used by the tests only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import type { Store } from '../../store/index.js';
import { AuditTrail, type AuditDraft } from '../trail.js';
import { OctetFrameParser, parseSyslog } from './syslog-parse.js';
import { SD_ID } from './syslog-format.js';

export interface ReceiverOptions {
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
  /** The loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Called after each message is stored (a test may stop the receiver from here). */
  readonly onMessage?: (receiver: SyslogReceiver) => void;
}

/** A syslog receiver on loopback that keeps every message it reads, in order. */
export class SyslogReceiver {
  readonly messages: Buffer[] = [];
  /** Connections accepted so far. */
  connections = 0;
  port = 0;
  readonly #options: ReceiverOptions;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  private constructor(options: ReceiverOptions) {
    this.#options = options;
  }

  static async start(options: ReceiverOptions = {}, port = 0): Promise<SyslogReceiver> {
    const r = new SyslogReceiver(options);
    await r.listen(port);
    return r;
  }

  async listen(port = this.port): Promise<void> {
    const onSocket = (socket: Socket): void => {
      this.connections += 1;
      this.#sockets.add(socket);
      const parser = new OctetFrameParser();
      socket.on('data', (chunk: Buffer) => {
        if (socket.destroyed) return;
        for (const m of parser.push(chunk)) {
          if (socket.destroyed) return;
          this.messages.push(Buffer.from(m));
          this.#options.onMessage?.(this);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => this.#sockets.delete(socket));
    };
    const tls = this.#options.tls;
    const server: Server = tls === undefined ? createNetServer(onSocket) : createTlsServer({ key: tls.key, cert: tls.cert }, onSocket);
    server.on('tlsClientError', () => undefined);
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address !== null && typeof address === 'object') this.port = address.port;
  }

  /** Goes away abruptly, as a crashed receiver does: connections reset, port closed. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The `seq` of every message, in arrival order. */
  seqs(): number[] {
    return this.messages.map((m) => Number(parseSyslog(m).sd.get(SD_ID)?.get('seq')));
  }

  /** Waits until `check` holds (polling), failing after `ms`. */
  async until(check: (r: SyslogReceiver) => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check(this)) {
      if (Date.now() > end) throw new Error(`receiver: condition not met in ${ms} ms (${this.messages.length} messages)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, or undefined when openssl is missing. */
export function throwawayCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cert-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=vigil-test-receiver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore' },
    );
    if (r.error !== undefined || r.status !== 0) return undefined;
    return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Appends `n` audit entries (reads of Observation/obs-i for patient p-i, some refused). */
export async function seedAudit(store: Store, n: number, tenant = 'default', start = 0): Promise<void> {
  const trail = new AuditTrail(store, tenant);
  for (let i = start; i < start + n; i++) {
    const refused = i % 10 === 9;
    const draft: AuditDraft = {
      type: 'rest',
      subtype: 'read',
      action: 'R',
      outcome: refused ? '4' : '0',
      client: 'siem-test',
      entities: [`Observation/obs-${i}`],
      patients: [`p-${i % 50}`],
      status: refused ? 403 : 200,
      ...(refused ? { reason: 'ERR_SCOPE' } : {}),
    };
    await trail.record(draft);
  }
}
