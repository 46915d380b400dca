import { VigilError } from '../../errors.js';
import type { AuditRow } from '../../store/index.js';
import type { AuditBody } from '../trail.js';
import { auditLeafText, leafHashOfText } from '../leaf.js';

/**
 * One audit entry as it leaves Vigil: its sequence number, tenant, log leaf hash and the stored
 * canonical JSON body, byte for byte. The body holds ids and codes only (audit/trail.ts), so the
 * export carries no health data; the leaf hash lets a SIEM's copy be checked against the Merkle log.
 */
export interface ExportRecord {
  readonly seq: number;
  readonly tenant: string;
  /** The canonical JSON body exactly as stored (and as the log leaf commits to). */
  readonly body: string;
  /** The parsed body, for the few fields the syslog header repeats. */
  readonly entry: AuditBody;
  /** RFC 9162 leaf hash of the entry, lowercase hex. */
  readonly leaf: string;
}

/** Builds the export record of a stored row; a body that is not one line of JSON is an integrity failure. */
export function exportRecord(row: AuditRow): ExportRecord {
  let entry: unknown;
  try {
    entry = JSON.parse(row.body);
  } catch {
    entry = undefined;
  }
  // A line break would split a JSON line in two; canonical bodies never hold one.
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || /[\r\n]/.test(row.body)) {
    throw new VigilError('ERR_INTEGRITY', `audit entry ${row.seq} is not canonical JSON; run \`vigil verify\``);
  }
  return {
    seq: row.seq,
    tenant: row.tenant,
    body: row.body,
    entry: entry as AuditBody,
    leaf: leafHashOfText(auditLeafText(row)).toString('hex'),
  };
}

/**
 * The JSON line of a record: `{"seq":N,"tenant":"...","leaf":"hex","entry":{...}}` and a newline.
 * The body is embedded verbatim, so `entry` re-serialises to the exact bytes the leaf covers.
 */
export function jsonLine(record: ExportRecord): string {
  return `{"seq":${record.seq},"tenant":${JSON.stringify(record.tenant)},"leaf":"${record.leaf}","entry":${record.body}}\n`;
}

/** Where an export stands: the last entry a target holds, and its leaf hash (to check it is this trail's). */
export interface ExportMark {
  readonly seq: number;
  readonly leaf: string;
}

/** The seq and leaf of an exported JSON line, or undefined when the line is not one. */
export function parseJsonLine(line: string): ExportMark | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { seq, leaf, entry } = value as { seq?: unknown; leaf?: unknown; entry?: unknown };
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof entry !== 'object' || entry === null) return undefined;
    if (typeof leaf !== 'string' || !/^[0-9a-f]{64}$/.test(leaf)) return undefined;
    return { seq, leaf };
  } catch {
    return undefined;
  }
}
