import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { isLoopbackHost } from '../../config/index.js';

/** Where an export goes. */
export type ExportTarget =
  | { readonly kind: 'jsonl'; readonly path: string }
  | { readonly kind: 'syslog'; readonly host: string; readonly port: number; readonly tls: boolean };

/**
 * Parses `HOST:PORT` (`[v6]:PORT` for an IPv6 address); undefined when it is not one.
 *
 * @example
 * parseHostPort('siem.example.org:6514') // { host: 'siem.example.org', port: 6514 }
 */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (host === '' || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** Whether the target host is this machine (a name other than `localhost` counts as remote, whatever it resolves to). */
export function isLoopbackTarget(host: string): boolean {
  return isLoopbackHost(host);
}

/** The target as one string: `jsonl:/abs/path`, `syslog+tcp://host:port` or `syslog+tls://host:port`. */
export function describeTarget(target: ExportTarget): string {
  if (target.kind === 'jsonl') return `jsonl:${resolve(target.path)}`;
  const host = isIP(target.host) === 6 ? `[${target.host}]` : target.host.toLowerCase();
  return `syslog+${target.tls ? 'tls' : 'tcp'}://${host}:${target.port}`;
}

/** The default state file of a target: `<data dir>/audit-export-<first 16 hex of SHA-256(target)>.state`. */
export function defaultStatePath(dataDir: string, target: ExportTarget): string {
  const hash = createHash('sha256').update(describeTarget(target)).digest('hex').slice(0, 16);
  return join(dataDir, `audit-export-${hash}.state`);
}
