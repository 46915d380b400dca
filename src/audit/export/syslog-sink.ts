import { connect as netConnect, isIP, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { ExportRecord } from './record.js';
import { SinkUnavailableError, type ExportSink } from './sink.js';
import { octetFrame, syslogMessage } from './syslog-format.js';
import { describeTarget } from './target.js';

/** See SyslogSinkOptions.replayWindowBytes. */
export const DEFAULT_REPLAY_WINDOW = 32 * 1024 * 1024;

export interface SyslogSinkOptions {
  readonly host: string;
  readonly port: number;
  /** TLS (RFC 5425) instead of plain TCP (RFC 6587). */
  readonly tls: boolean;
  /** PEM roots that replace Node's built-in CA list (a private SIEM CA); else the built-in list. */
  readonly ca?: string | Buffer;
  /** PEM client certificate and key, for receivers that authenticate their senders. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** HOSTNAME of the messages (default: this machine's name). */
  readonly hostname?: string;
  readonly facility?: number;
  /**
   * How much of what was last written is sent again after the connection breaks (default 32 MiB).
   * TCP acknowledges nothing to the application: bytes the kernel accepted can still be lost
   * when the receiver goes away (they may sit in our send buffer and its receive buffer, which
   * Linux grows to 4 and 32 MiB by default), so the tail of the stream is repeated, and the
   * receiver drops duplicates by the `seq` in the structured data.
   */
  readonly replayWindowBytes?: number;
  readonly connectTimeoutMs?: number;
  /** How long a batch may wait for the kernel to take it before the connection counts as dead. */
  readonly writeTimeoutMs?: number;
  /** How long close() waits for the receiver to close its side (its sign that it read everything). */
  readonly closeTimeoutMs?: number;
}

/**
 * Sends records as RFC 5424 messages over TCP or TLS, octet-counted. Delivery is at least once:
 * a batch counts as written when the socket's write callback fires, and after a broken
 * connection the export rewinds over the replay window and sends it again.
 */
export class SyslogSink implements ExportSink {
  readonly target: string;
  readonly #options: SyslogSinkOptions;
  readonly #hostname: string;
  readonly #windowMax: number;
  #socket: Socket | undefined;
  #broken: Error | undefined;
  #peerEnded = false;
  /** Records written on the current connection and still inside the replay window: seqs and sizes. */
  #seqs: number[] = [];
  #sizes: number[] = [];
  #head = 0;
  #windowBytes = 0;

  constructor(options: SyslogSinkOptions) {
    this.#options = options;
    this.#hostname = options.hostname ?? osHostname();
    this.#windowMax = options.replayWindowBytes ?? DEFAULT_REPLAY_WINDOW;
    this.target = describeTarget({ kind: 'syslog', host: options.host, port: options.port, tls: options.tls });
  }

  /** A syslog receiver cannot say what it holds: the state file alone decides where to resume. */
  async open(): Promise<undefined> {
    return undefined;
  }

  async write(records: readonly ExportRecord[]): Promise<void> {
    if (this.#broken !== undefined) this.#fail(this.#broken);
    this.#socket ??= await this.#connect();
    const socket = this.#socket;
    const frames: Buffer[] = [];
    const sizes: number[] = [];
    for (const r of records) {
      const frame = octetFrame(syslogMessage(r, { hostname: this.#hostname, ...(this.#options.facility === undefined ? {} : { facility: this.#options.facility }) }));
      frames.push(frame);
      sizes.push(frame.length);
    }
    const data = Buffer.concat(frames);
    const err = await new Promise<Error | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(new Error('the receiver stopped reading')), this.#options.writeTimeoutMs ?? 30_000);
      socket.write(data, (e) => {
        clearTimeout(timer);
        resolve(e ?? undefined);
      });
    });
    if (err !== undefined) this.#fail(err);
    records.forEach((r, i) => this.#remember(r.seq, sizes[i] ?? 0));
  }

  async confirm(): Promise<void> {
    if (this.#socket === undefined) return;
    const rewind = await this.close();
    if (rewind !== undefined) this.#fail(new Error('the receiver did not confirm the close'), rewind);
  }

  async close(): Promise<number | undefined> {
    const socket = this.#socket;
    if (socket === undefined) return undefined;
    const rewind = this.#rewindPoint();
    if (this.#broken !== undefined) {
      this.#reset();
      return rewind;
    }
    // A receiver that reads to the end and then closes its side has read every byte we sent.
    const confirmed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.#options.closeTimeoutMs ?? 5000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(this.#peerEnded);
      });
      socket.end();
    });
    this.#reset();
    return confirmed ? undefined : rewind;
  }

  /** Drops the broken connection and raises the rewind the exporter must make. */
  #fail(cause: Error, rewind = this.#rewindPoint()): never {
    this.#reset();
    throw new SinkUnavailableError(`the syslog receiver at ${this.target} is unavailable (${describe(cause)})`, rewind, { cause });
  }

  #reset(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#broken = undefined;
    this.#peerEnded = false;
    this.#seqs = [];
    this.#sizes = [];
    this.#head = 0;
    this.#windowBytes = 0;
  }

  #rewindPoint(): number | undefined {
    const first = this.#seqs[this.#head];
    return first === undefined ? undefined : first - 1;
  }

  #remember(seq: number, size: number): void {
    this.#seqs.push(seq);
    this.#sizes.push(size);
    this.#windowBytes += size;
    // Keep the shortest tail that still covers the window.
    while (this.#head < this.#seqs.length - 1 && this.#windowBytes - (this.#sizes[this.#head] ?? 0) >= this.#windowMax) {
      this.#windowBytes -= this.#sizes[this.#head] ?? 0;
      this.#head += 1;
    }
    if (this.#head > 4096) {
      this.#seqs = this.#seqs.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
  }

  async #connect(): Promise<Socket> {
    const o = this.#options;
    const socket: Socket = o.tls
      ? tlsConnect({
          host: o.host,
          port: o.port,
          // SNI carries names only; an IP address is checked against the certificate's IP SANs.
          ...(isIP(o.host) === 0 ? { servername: o.host } : {}),
          minVersion: 'TLSv1.2',
          // Certificates are always checked; there is no switch to turn that off.
          rejectUnauthorized: true,
          ...(o.ca === undefined ? {} : { ca: o.ca }),
          ...(o.cert === undefined ? {} : { cert: o.cert }),
          ...(o.key === undefined ? {} : { key: o.key }),
        })
      : netConnect({ host: o.host, port: o.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error('connection timed out')), o.connectTimeoutMs ?? 10_000);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new SinkUnavailableError(`the syslog receiver at ${this.target} is unavailable (${describe(err)})`, undefined, { cause: err }));
      };
      socket.once('error', onError);
      socket.once(o.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve();
      });
    });
    socket.setKeepAlive(true, 30_000);
    // Events of a connection already given up (reset) must not mark its successor broken.
    const current = (): boolean => this.#socket === socket;
    socket.on('error', (err) => {
      if (current()) this.#broken ??= err;
    });
    // Receivers send nothing; any data is ignored, and their end of the stream ends the connection.
    socket.on('data', () => undefined);
    socket.on('end', () => {
      if (!current()) return;
      this.#peerEnded = true;
      this.#broken ??= new Error('closed by the receiver');
    });
    socket.on('close', () => {
      if (current()) this.#broken ??= new Error('connection closed');
    });
    return socket;
  }
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === undefined ? err.message : `${code}: ${err.message}`;
}
