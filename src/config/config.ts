import { isIP } from 'node:net';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { VigilError } from '../errors.js';

/** The validated, frozen configuration of one Vigil process. */
export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Origin clients use to reach this server, e.g. `https://fhir.example.org`; tokens' `iss`. */
  readonly publicUrl: string;
  /** FHIR base URL: `publicUrl + '/fhir'`; tokens' `aud`. */
  readonly fhirBaseUrl: string;
  readonly masterKey: Buffer | undefined;
  /** Where the master key file is (created on first start when no VIGIL_MASTER_KEY is given). */
  readonly masterKeyFile: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly behindTlsProxy: boolean;
  /** Addresses whose X-Forwarded-* headers are believed (only with behindTlsProxy). */
  readonly trustedProxies: string;
  readonly bodyLimit: number;
  readonly jsonDepthLimit: number;
  readonly tokenTtlSeconds: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly tenant: string;
  /** Token requests allowed per client address per minute. */
  readonly tokenRateLimit: number;
  /** Seconds between signed checkpoints of the audit log (0: only on demand). */
  readonly checkpointInterval: number;
  /** An append-only file every checkpoint is also written to (the outside witness). */
  readonly witnessFile: string | undefined;
  /** A URL every checkpoint is POSTed to (a remote witness); https unless on loopback. */
  readonly witnessUrl: string | undefined;
  /** A syslog receiver every checkpoint is sent to (`tls://host:port`, or `tcp://` on loopback). */
  readonly witnessSyslog: SyslogWitness | undefined;
  /** A sign-in session unused this long ends (idle logoff), in seconds. */
  readonly sessionIdleSeconds: number;
  /** A sign-in session ends this long after sign-in whatever its use, in seconds. */
  readonly sessionMaxSeconds: number;
  /** How long a break-the-glass grant lasts, in seconds. */
  readonly breakGlassSeconds: number;
  /** Whether a clinician may see patients of the organizations they belong to without another relationship. */
  readonly sameOrganizationAccess: boolean;
  /** Where the server's scheduled backups go (a backup set directory); unset: none. */
  readonly backupDir: string | undefined;
  /** Minutes between scheduled backups (0: none). */
  readonly backupIntervalMinutes: number;
  /** Whether the detection engine runs in the server. */
  readonly detect: boolean;
  /** A JSON file of per-rule settings (enabled, severity, response, thresholds). */
  readonly detectRulesFile: string | undefined;
  /** A URL every new alert is POSTed to, signed with HMAC-SHA256 under `alertWebhookSecret`. */
  readonly alertWebhook: string | undefined;
  readonly alertWebhookSecret: string | undefined;
  /** A syslog receiver every new alert is sent to (RFC 5424). */
  readonly alertSyslog: SyslogWitness | undefined;
  /** Megabytes of SQLite page cache each of the store's connections may keep. */
  readonly sqliteCacheMb: number;
}

/**
 * The default page cache of a connection: a sixteenth of the machine's memory, from 64 MB to 1 GB.
 * A search at 30,000 patients reads index pages spread over a 19 GB file; with 1 GB instead of
 * 64 MB the Observation code and date search went from p99 25.5 to 33.9 ms to 21.7 to 27.0 ms.
 */
export function defaultSqliteCacheMb(totalBytes = totalmem()): number {
  return Math.min(1024, Math.max(64, Math.floor(totalBytes / 16 / 2 ** 20)));
}

/** Every environment variable Vigil reads; any other `VIGIL_*` variable refuses to start. */
export const ENV_KEYS = [
  'VIGIL_DATA_DIR',
  'VIGIL_HOST',
  'VIGIL_PORT',
  'VIGIL_PUBLIC_URL',
  'VIGIL_MASTER_KEY',
  'VIGIL_MASTER_KEY_FILE',
  'VIGIL_TLS_CERT',
  'VIGIL_TLS_KEY',
  'VIGIL_BEHIND_TLS_PROXY',
  'VIGIL_TRUSTED_PROXIES',
  'VIGIL_BODY_LIMIT',
  'VIGIL_JSON_DEPTH',
  'VIGIL_TOKEN_TTL',
  'VIGIL_LOG_LEVEL',
  'VIGIL_CHECKPOINT_INTERVAL',
  'VIGIL_TOKEN_RATE_LIMIT',
  'VIGIL_WITNESS_FILE',
  'VIGIL_WITNESS_URL',
  'VIGIL_WITNESS_SYSLOG',
  'VIGIL_SESSION_IDLE',
  'VIGIL_SESSION_MAX',
  'VIGIL_BREAK_GLASS_MINUTES',
  'VIGIL_SAME_ORGANIZATION_ACCESS',
  'VIGIL_BACKUP_DIR',
  'VIGIL_BACKUP_INTERVAL',
  'VIGIL_DETECT',
  'VIGIL_DETECT_RULES',
  'VIGIL_ALERT_WEBHOOK',
  'VIGIL_ALERT_WEBHOOK_SECRET',
  'VIGIL_ALERT_SYSLOG',
  'VIGIL_SQLITE_CACHE_MB',
] as const;

type EnvKey = (typeof ENV_KEYS)[number];

/** Values given on the command line; they win over the environment. */
export interface ConfigOverrides {
  dataDir?: string;
  host?: string;
  port?: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** A comma-separated list of IP addresses or CIDR ranges (what Fastify's trustProxy takes). */
function trustedProxies(raw: string, problems: string[]): string {
  const items = raw.split(',').map((s) => s.trim());
  const ok = items.every((item) => {
    const [address, bits, extra] = item.split('/');
    const family = address === undefined ? 0 : isIP(address);
    if (family === 0 || extra !== undefined) return false;
    return bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  });
  if (!ok) problems.push('VIGIL_TRUSTED_PROXIES must list IP addresses or CIDR ranges, separated by commas');
  return items.join(',');
}

/** A witness URL must be https, except on this machine (checkpoints are public, but their integrity in transit is not). */
/**
 * A URL that is https, or http on this machine only (nothing else protects it in transit);
 * undefined otherwise.
 *
 * @example
 * httpsOrLoopback('http://127.0.0.1:9000/witness') // 'http://127.0.0.1:9000/witness'
 */
export function httpsOrLoopback(raw: string): string | undefined {
  try {
    const u = new URL(raw);
    if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, '')))) return u.href;
  } catch {
    // not a URL
  }
  return undefined;
}

/** An optional https-or-loopback URL setting; a bad one is reported under its name. */
function urlSetting(key: EnvKey, raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  const url = httpsOrLoopback(raw);
  if (url === undefined) problems.push(`${key} must be an https URL (http only on loopback)`);
  return url;
}

/** Where the syslog witness listens. */
export interface SyslogWitness {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/**
 * Parses `tcp://HOST:PORT` (loopback only: nothing else protects it in transit) or
 * `tls://HOST:PORT`; undefined when it is neither.
 *
 * @example
 * parseSyslogWitness('tls://siem.example.org:6514') // { host: 'siem.example.org', port: 6514, tls: true }
 */
export function parseSyslogWitness(raw: string): SyslogWitness | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port);
  if (host === '' || !Number.isInteger(port) || port < 1 || (u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.username !== '') return undefined;
  if (u.protocol === 'tls:') return { host, port, tls: true };
  if (u.protocol === 'tcp:' && isLoopbackHost(host)) return { host, port, tls: false };
  return undefined;
}

/** An optional syslog receiver setting (a checkpoint's or an alert's integrity in transit matters). */
function syslogSetting(key: EnvKey, raw: string | undefined, problems: string[]): SyslogWitness | undefined {
  if (raw === undefined) return undefined;
  const target = parseSyslogWitness(raw);
  if (target === undefined) problems.push(`${key} must be tls://HOST:PORT (tcp://HOST:PORT only on loopback)`);
  return target;
}

/**
 * Reads and checks the configuration. Every problem is reported at once in one ERR_CONFIG error.
 *
 * @example
 * const config = loadConfig(process.env, { dataDir: './vigil-data' });
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const problems: string[] = [];
  const known = new Set<string>(ENV_KEYS);
  for (const key of Object.keys(env)) {
    if (key.startsWith('VIGIL_') && !known.has(key)) problems.push(`${key} is not a known setting`);
  }
  const get = (key: EnvKey): string | undefined => {
    const value = env[key];
    return value === undefined || value === '' ? undefined : value;
  };
  const int = (key: EnvKey, fallback: number, min: number, max: number): number => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const bool = (key: EnvKey): boolean => {
    const raw = get(key);
    if (raw === undefined) return false;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${key} must be true or false`);
    return false;
  };

  const dataDir = resolve(overrides.dataDir ?? get('VIGIL_DATA_DIR') ?? './vigil-data');
  const host = overrides.host ?? get('VIGIL_HOST') ?? '127.0.0.1';
  const port = overrides.port ?? int('VIGIL_PORT', 8080, 0, 65535);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('the port must be an integer from 0 to 65535');

  let masterKey: Buffer | undefined;
  const rawKey = get('VIGIL_MASTER_KEY');
  if (rawKey !== undefined) {
    // Never echo the value: it is the key to every record.
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(rawKey) ? Buffer.from(rawKey, 'base64') : Buffer.alloc(0);
    if (decoded.length !== 32) problems.push('VIGIL_MASTER_KEY must be 32 random bytes in base64');
    else masterKey = decoded;
  }

  const tlsCert = get('VIGIL_TLS_CERT');
  const tlsKey = get('VIGIL_TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) problems.push('VIGIL_TLS_CERT and VIGIL_TLS_KEY must be set together');
  const tls = tlsCert !== undefined && tlsKey !== undefined;
  const behindTlsProxy = bool('VIGIL_BEHIND_TLS_PROXY');
  // Plain HTTP leaves tokens and records readable on the wire, so it stays on this machine.
  if (!tls && !behindTlsProxy && !isLoopbackHost(host)) {
    problems.push(`host ${host} is not loopback: set VIGIL_TLS_CERT and VIGIL_TLS_KEY, or VIGIL_BEHIND_TLS_PROXY=true when a proxy terminates TLS`);
  }

  const level = get('VIGIL_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) problems.push(`VIGIL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  let publicUrl = get('VIGIL_PUBLIC_URL');
  if (publicUrl !== undefined) {
    try {
      const u = new URL(publicUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
      if (u.search !== '' || u.hash !== '' || /[?#]/.test(publicUrl)) throw new Error('query');
      publicUrl = u.href.replace(/\/+$/, '');
    } catch {
      problems.push('VIGIL_PUBLIC_URL must be an http(s) URL without query or fragment');
    }
  } else {
    // A wildcard bind address is not one a client can reach: name loopback instead.
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : isIP(host) === 6 ? `[${host}]` : host;
    publicUrl = `${tls || behindTlsProxy ? 'https' : 'http'}://${shownHost}:${port}`;
  }

  const config: Config = {
    dataDir,
    host,
    port,
    publicUrl: publicUrl ?? '',
    fhirBaseUrl: `${publicUrl ?? ''}/fhir`,
    masterKey,
    masterKeyFile: resolve(get('VIGIL_MASTER_KEY_FILE') ?? resolve(dataDir, 'master.key')),
    tlsCert: tlsCert === undefined ? undefined : resolve(tlsCert),
    tlsKey: tlsKey === undefined ? undefined : resolve(tlsKey),
    behindTlsProxy,
    trustedProxies: trustedProxies(get('VIGIL_TRUSTED_PROXIES') ?? '127.0.0.1,::1', problems),
    bodyLimit: int('VIGIL_BODY_LIMIT', 16 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    jsonDepthLimit: int('VIGIL_JSON_DEPTH', 64, 8, 512),
    tokenTtlSeconds: int('VIGIL_TOKEN_TTL', 300, 30, 3600),
    logLevel: level as Config['logLevel'],
    tenant: 'default',
    checkpointInterval: int('VIGIL_CHECKPOINT_INTERVAL', 60, 0, 86400),
    tokenRateLimit: int('VIGIL_TOKEN_RATE_LIMIT', 30, 1, 100_000),
    witnessFile: get('VIGIL_WITNESS_FILE') === undefined ? undefined : resolve(get('VIGIL_WITNESS_FILE') ?? ''),
    witnessUrl: urlSetting('VIGIL_WITNESS_URL', get('VIGIL_WITNESS_URL'), problems),
    witnessSyslog: syslogSetting('VIGIL_WITNESS_SYSLOG', get('VIGIL_WITNESS_SYSLOG'), problems),
    sessionIdleSeconds: 60 * int('VIGIL_SESSION_IDLE', 15, 1, 24 * 60),
    sessionMaxSeconds: 60 * int('VIGIL_SESSION_MAX', 12 * 60, 5, 7 * 24 * 60),
    breakGlassSeconds: 60 * int('VIGIL_BREAK_GLASS_MINUTES', 60, 1, 24 * 60),
    sameOrganizationAccess: bool('VIGIL_SAME_ORGANIZATION_ACCESS'),
    backupDir: get('VIGIL_BACKUP_DIR') === undefined ? undefined : resolve(get('VIGIL_BACKUP_DIR') ?? ''),
    backupIntervalMinutes: int('VIGIL_BACKUP_INTERVAL', 60, 0, 7 * 24 * 60),
    detect: get('VIGIL_DETECT') === undefined ? true : bool('VIGIL_DETECT'),
    detectRulesFile: get('VIGIL_DETECT_RULES') === undefined ? undefined : resolve(get('VIGIL_DETECT_RULES') ?? ''),
    alertWebhook: urlSetting('VIGIL_ALERT_WEBHOOK', get('VIGIL_ALERT_WEBHOOK'), problems),
    alertWebhookSecret: get('VIGIL_ALERT_WEBHOOK_SECRET'),
    alertSyslog: syslogSetting('VIGIL_ALERT_SYSLOG', get('VIGIL_ALERT_SYSLOG'), problems),
    sqliteCacheMb: int('VIGIL_SQLITE_CACHE_MB', defaultSqliteCacheMb(), 2, 65_536),
  };
  // A backup set inside the data directory would be lost with it, and reached by whatever encrypts it.
  if (config.backupDir !== undefined && (config.backupDir === dataDir || config.backupDir.startsWith(`${dataDir}/`))) problems.push('VIGIL_BACKUP_DIR must not be inside the data directory');
  // A webhook is signed: it needs a secret worth the name.
  const secret = get('VIGIL_ALERT_WEBHOOK_SECRET');
  if (get('VIGIL_ALERT_WEBHOOK') !== undefined && (secret === undefined || secret.length < 32)) problems.push('VIGIL_ALERT_WEBHOOK needs VIGIL_ALERT_WEBHOOK_SECRET of at least 32 characters');
  if (problems.length > 0) {
    throw new VigilError('ERR_CONFIG', `Vigil cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return Object.freeze(config);
}
