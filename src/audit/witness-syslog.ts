import { connect as netConnect, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { SyslogWitness } from '../config/index.js';
import { VigilError } from '../errors.js';
import { APP_NAME, FACILITY_AUTHPRIV, SD_ID, SEVERITY, escapeSdValue, headerField, octetFrame } from './export/syslog-format.js';

/**
 * The syslog witness (`VIGIL_WITNESS_SYSLOG`): each new checkpoint note goes to a syslog receiver
 * as one RFC 5424 message, octet-counted over TCP (RFC 6587) or TLS (RFC 5425). The receiver
 * (a SIEM, a remote rsyslog writing to WORM storage) keeps a copy the database cannot roll back.
 */

/** The RFC 5424 message of one checkpoint: MSGID `checkpoint`, origin and size as structured data, the note as MSG. */
export function checkpointMessage(cp: { origin: string; size: number; note: string }, now: Date, hostname: string): string {
  const pri = FACILITY_AUTHPRIV * 8 + SEVERITY.notice;
  const sd = `[${SD_ID} origin="${escapeSdValue(cp.origin)}" size="${cp.size}"]`;
  return `<${pri}>1 ${now.toISOString()} ${headerField(hostname, 255)} ${APP_NAME} - checkpoint ${sd} \u{FEFF}${cp.note}`;
}

/** Sends one checkpoint and waits until the receiver closes or the socket drained and closed; rejects on any failure or after `timeoutMs`. */
export async function sendCheckpointToSyslog(target: SyslogWitness, cp: { origin: string; size: number; note: string }, now: Date, timeoutMs = 5000): Promise<void> {
  const frame = octetFrame(checkpointMessage(cp, now, osHostname()));
  await new Promise<void>((resolve, reject) => {
    let socket: Socket;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new VigilError('ERR_INTERNAL', 'the syslog witness did not answer in time'));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      if (err === undefined) resolve();
      else reject(err);
    };
    const send = (): void => {
      socket.end(frame);
    };
    socket = target.tls ? tlsConnect({ host: target.host, port: target.port, servername: target.host }, send) : netConnect({ host: target.host, port: target.port }, send);
    socket.once('error', done);
    socket.once('close', (hadError) => {
      if (!hadError) done();
    });
    socket.resume();
  });
}
