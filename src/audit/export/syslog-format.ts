import type { ExportRecord } from './record.js';

/**
 * RFC 5424 formatting of audit entries, framed for TCP by octet counting (RFC 6587 section 3.4.1,
 * the only framing RFC 5425 allows over TLS).
 *
 * One message per entry:
 *
 *     <84>1 2024-05-01T10:00:00.000Z host vigil - read [vigil@32473 seq="42" tenant="default" action="R" outcome="0" leaf="…"] BOM{…canonical JSON…}
 */

/** authpriv: security messages that syslog daemons keep in restricted files (auth is often world-readable). */
export const FACILITY_AUTHPRIV = 10;
export const APP_NAME = 'vigil';
/**
 * The SD-ID of Vigil's structured data. 32473 is the private enterprise number reserved for
 * documentation (RFC 5612); it stands in until Vigil registers a number of its own.
 */
export const SD_ID = 'vigil@32473';
const BOM = '\u{FEFF}';
const NIL = '-';

/** RFC 5424 severities used here. */
export const SEVERITY = { error: 3, warning: 4, notice: 5, informational: 6 } as const;

/**
 * Severity of an entry, from its AuditEvent outcome: failures are errors, refusals warnings,
 * successful security events (sign-in, key rotation) notices, and successful FHIR interactions
 * informational.
 */
export function severityOf(outcome: string, type: string): number {
  switch (outcome) {
    case '0':
      return type === 'security' ? SEVERITY.notice : SEVERITY.informational;
    case '4':
      return SEVERITY.warning;
    default:
      // '8' and '12' (and anything unknown, so it is not lost among the informational ones).
      return SEVERITY.error;
  }
}

/** Escapes an SD-PARAM value: `"`, `\` and `]` take a backslash (RFC 5424 section 6.3.3). */
export function escapeSdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII only (%d33-126), at most `max` characters, NILVALUE when empty. */
export function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? NIL : clean;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

export interface SyslogOptions {
  /** HOSTNAME field: the machine the exporter runs on (FQDN when known). */
  readonly hostname: string;
  readonly facility?: number;
}

/**
 * The RFC 5424 message of one entry (without framing). TIMESTAMP is when the entry was recorded,
 * MSGID its subtype (`read`, `search-type`, `token`, ...), and the structured data carries the
 * sequence number a receiver uses to drop duplicates.
 */
export function syslogMessage(record: ExportRecord, options: SyslogOptions): string {
  const pri = (options.facility ?? FACILITY_AUTHPRIV) * 8 + severityOf(record.entry.outcome, record.entry.type);
  const recorded = typeof record.entry.recorded === 'string' && TIMESTAMP.test(record.entry.recorded) ? record.entry.recorded : NIL;
  const params: [string, string][] = [
    ['seq', String(record.seq)],
    ['tenant', record.tenant],
    ['action', String(record.entry.action)],
    ['outcome', String(record.entry.outcome)],
    ['leaf', record.leaf],
  ];
  const sd = `[${SD_ID}${params.map(([k, v]) => ` ${k}="${escapeSdValue(v)}"`).join('')}]`;
  return `<${pri}>1 ${recorded} ${headerField(options.hostname, 255)} ${APP_NAME} ${NIL} ${headerField(String(record.entry.subtype), 32)} ${sd} ${BOM}${record.body}`;
}

/** Octet-counting frame: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 message. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
