import type { NewAuditRow, Store, StoreTx } from '../store/index.js';
import { auditLeafText, leafHashOfText, type AuditLeafInput } from './leaf.js';

/** BALP action codes (AuditEvent.action): create, read, update, delete, execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
/** AuditEvent.outcome: success, minor failure (refused, not found), serious failure, major failure. */
export type AuditOutcome = '0' | '4' | '8' | '12';

/**
 * One audited event, as it is being built while a request runs. Everything in it is an id, a code
 * or a count: no names, identifiers or search values (those would be health data in the log).
 */
export interface AuditDraft {
  /** `rest` for FHIR interactions, `security` for sign-in, tokens and key operations. */
  type: 'rest' | 'security';
  /** FHIR restful-interaction code (`read`, `search-type`, ...) or a security event code (`token`, `key-rotate`). */
  subtype: string;
  action: AuditAction;
  outcome?: AuditOutcome;
  /** The client (application) acting, and the user it acts for, when there is one. */
  client?: string;
  user?: string;
  roles?: string[];
  purposeOfUse?: string[];
  /** The caller's network address. */
  address?: string;
  /** Resources read, written or disclosed, as `Type/id` (or `Type/id/_history/v`). */
  entities: string[];
  /** Patients the entities belong to (ids). */
  patients: string[];
  /** The resource type of a type-level interaction (search, history, create). */
  resourceType?: string;
  /** Names (never values) of the search parameters used. */
  queryParams?: string[];
  requestId?: string;
  status?: number;
  /** Why access was refused, when it was (an error code). */
  reason?: string;
  /** The access policy's reason for what it allowed or hid (e.g. `care-relationship`, `break-glass`). */
  decision?: string;
  /** Set once the entry is stored (for writes, inside the write's own transaction). */
  recorded?: boolean;
}

/** How the stored entry looks: the canonical JSON body the log leaf commits to. */
export interface AuditBody {
  /** The leaf format (leaf.ts, `auditLeafFormat`): 2 since it was introduced, absent (1) in bodies written before. */
  readonly format?: 2;
  readonly recorded: string;
  readonly type: AuditDraft['type'];
  readonly subtype: string;
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  readonly client?: string;
  readonly user?: string;
  readonly roles?: string[];
  readonly purposeOfUse?: string[];
  readonly address?: string;
  readonly entities: string[];
  readonly patients: string[];
  readonly resourceType?: string;
  readonly queryParams?: string[];
  readonly requestId?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly decision?: string;
}

/**
 * The stored row of an entry: its canonical JSON body, and the columns that repeat parts of it for
 * searching (`auditColumns`). A format 2 leaf commits to both, so a SIEM that holds the body can
 * rebuild the row, and the leaf, with this.
 */
export function auditRow(tenant: string, body: AuditBody): AuditLeafInput {
  return { tenant, ...auditColumns(body), body: JSON.stringify(body) };
}

/** The searchable columns of a body (the verifier holds a format 1 entry's columns to its body with this). */
export function auditColumns(body: AuditBody): Omit<AuditLeafInput, 'tenant' | 'body'> {
  return {
    recorded: body.recorded,
    action: body.action,
    subtype: body.subtype,
    outcome: body.outcome,
    // The agent searched by is the person when there is one, else the application.
    agent: body.user ?? body.client ?? null,
    patients: ` ${body.patients.join(' ')} `,
  };
}

/** Maps an HTTP status to an AuditEvent outcome. */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return '0';
  if (status < 500) return '4';
  return '8';
}

/** The audit trail: builds canonical entries and appends them, with their log leaves, to the store. */
export class AuditTrail {
  readonly #store: Store;
  readonly #tenant: string;
  readonly #now: () => Date;

  constructor(store: Store, tenant: string, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#tenant = tenant;
    this.#now = now;
  }

  /** The row for a draft: canonical body (fixed key order, no undefined fields) and its leaf hash. */
  row(draft: AuditDraft): NewAuditRow {
    const body: AuditBody = {
      format: 2,
      recorded: this.#now().toISOString(),
      type: draft.type,
      // The columns hold these as text, which keeps no lone surrogate: they are made well-formed (U+FFFD) first.
      subtype: draft.subtype.toWellFormed(),
      action: draft.action,
      outcome: draft.outcome ?? '0',
      ...(draft.client === undefined ? {} : { client: draft.client.toWellFormed() }),
      ...(draft.user === undefined ? {} : { user: draft.user.toWellFormed() }),
      ...(draft.roles === undefined ? {} : { roles: [...draft.roles] }),
      ...(draft.purposeOfUse === undefined ? {} : { purposeOfUse: [...draft.purposeOfUse] }),
      ...(draft.address === undefined ? {} : { address: draft.address }),
      entities: [...new Set(draft.entities)],
      patients: [...new Set(draft.patients.map((p) => p.toWellFormed()))].sort(),
      ...(draft.resourceType === undefined ? {} : { resourceType: draft.resourceType }),
      ...(draft.queryParams === undefined ? {} : { queryParams: [...new Set(draft.queryParams)].sort() }),
      ...(draft.requestId === undefined ? {} : { requestId: draft.requestId }),
      ...(draft.status === undefined ? {} : { status: draft.status }),
      ...(draft.reason === undefined ? {} : { reason: draft.reason }),
      ...(draft.decision === undefined ? {} : { decision: draft.decision }),
    };
    const row = auditRow(this.#tenant, body);
    return { ...row, leaf: leafHashOfText(auditLeafText(row)) };
  }

  /** Appends the entry inside a transaction that also changes data (so neither exists without the other). */
  async recordIn(tx: StoreTx, draft: AuditDraft): Promise<number> {
    const seq = await tx.appendAudit(this.row(draft));
    draft.recorded = true;
    return seq;
  }

  /** Appends the entry in a transaction of its own (reads, searches, refusals). */
  async record(draft: AuditDraft): Promise<number> {
    const seq = await this.#store.appendAudit(this.row(draft));
    draft.recorded = true;
    return seq;
  }
}
