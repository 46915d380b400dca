import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { Principal } from '../auth/index.js';
import type { AuditRow } from '../store/index.js';
import type { AuditBody } from './trail.js';

/** `access`: every audited access to the record. `accounting`: the HIPAA 45 CFR 164.528 accounting of disclosures. */
export type ReportType = 'access' | 'accounting';

/** Roles that may read any patient's report: HIPAA privacy and security officials. */
const OFFICER_ROLES = new Set(['privacy-officer', 'security-admin']);

/**
 * Whether a caller may read the access report (and accounting) of Patient/`patientId`. Default
 * deny; allowed are (1) a privacy officer or security admin with `system/AuditEvent.rs` or
 * `system/Patient.rs`, for any patient, and (2) a patient-context login (a `patient` claim, not
 * issued yet) with a `patient/` read scope on Patient or AuditEvent, for that patient only.
 */
export function mayReadAccessReport(principal: Principal, patientId: string): boolean {
  const context = principal.kind === 'client' ? 'system' : 'user';
  const rs = (type: string): boolean => principal.scopes.allows(context, type, 'r') && principal.scopes.allows(context, type, 's');
  // Officers review everyone's accesses (164.308(a)(1)(ii)(D), 164.530(a)): role and scope both needed.
  if (principal.roles.some((r) => OFFICER_ROLES.has(r)) && (rs('AuditEvent') || rs('Patient'))) return true;
  // The individual has a right to their own accounting (164.528(a)), and to nobody else's.
  const self = principal.fhirUser?.startsWith('Patient/') === true ? principal.fhirUser.slice('Patient/'.length) : undefined;
  const own = principal.kind === 'user' && principal.roles.includes('patient') ? (self ?? principal.patient) : undefined;
  return own !== undefined && own === patientId && (principal.scopes.allows('patient', 'Patient', 'r') || principal.scopes.allows('patient', 'AuditEvent', 'r'));
}

/** A paragraph of 164.528(a)(1) under which a disclosure is left out of the accounting. */
export type Exclusion = 'tpo' | 'individual' | 'authorization' | 'directory-or-involved';

/**
 * v3-ActReason purpose-of-use codes that place a disclosure under an exclusion of 164.528(a)(1).
 * Any other code (research, public health, legal, government, military, marketing, decedents,
 * donation, fraud, unknown codes) is accountable. The reasons are in docs/access-report.md.
 */
const EXCLUDED_PURPOSES: ReadonlyMap<string, Exclusion> = new Map<string, Exclusion>([
  // (i) treatment
  ...(['TREAT', 'CLINTRL', 'COC', 'ETREAT', 'BTG', 'ERTREAT', 'POPHLTH', 'DISASTER'] as const).map((c) => [c, 'tpo'] as const),
  // (i) payment (MILDCRG, under COVERAGE in v3, is a military discharge: 164.512(k)(1), accountable)
  ...(['HPAYMT', 'CLMATTCH', 'COVAUTH', 'COVERAGE', 'ELIGDTRM', 'ELIGVER', 'ENROLLM', 'REMITADV', 'PAYMT'] as const).map((c) => [c, 'tpo'] as const),
  // (i) health care operations (164.501); the operations children that are 164.512 purposes are not here
  ...(
    [
      'HOPERAT', 'CAREMGT', 'HACCRED', 'HCOMPL', 'HDM', 'HOUTCOMS', 'HQUALIMP', 'HSYSADMIN', 'LABELING', 'METAMGT', 'MEMADMIN',
      'PATADMIN', 'PATSFTY', 'PERFMSR', 'RECORDMGT', 'SYSDEV', 'HTEST', 'TRAIN',
      'OPERAT', 'ACCRED', 'COMPL', 'ENADMIN', 'OUTCOMS', 'QUALIMP', 'SYSADMN',
    ] as const
  ).map((c) => [c, 'tpo'] as const),
  // (ii) to the individual, or their personal representative (164.502(g))
  ['PATRQT', 'individual'],
  ['PWATRNY', 'individual'],
  // (iv) pursuant to the individual's authorization (164.508)
  ['SUPNWK', 'authorization'],
  // (v) facility directory and persons involved in the individual's care (164.510)
  ['HDIRECT', 'directory-or-involved'],
  ['FAMRQT', 'directory-or-involved'],
]);

/** Successful interactions that read data; writes and refusals never disclose. */
const READ_ACTIONS = new Set(['R', 'E']);

/** The entry's stored body. */
export function bodyOf(row: AuditRow): AuditBody {
  return JSON.parse(row.body) as AuditBody;
}

/**
 * The resources of an entry that may be shown in `patientId`'s report: all of them when the entry
 * concerns that patient alone; otherwise only the Patient itself, so no report names another
 * patient's resources. `otherPatients` says resources were held back.
 */
export function resourcesFor(b: AuditBody, patientId: string): { resources: string[]; otherPatients: boolean } {
  if (b.patients.length === 1 && b.patients[0] === patientId) return { resources: [...b.entities], otherPatients: false };
  const own = b.entities.filter((e) => e === `Patient/${patientId}` || e.startsWith(`Patient/${patientId}/_history/`));
  return { resources: own, otherPatients: b.patients.some((p) => p !== patientId) };
}

/**
 * The resources an entry disclosed: successful reads, searches, history and exports that returned
 * something. A batch or transaction entry names written versions as `Type/id/_history/v`, which
 * are left out (writes are not disclosures); the reads it returned are named without a version.
 */
export function disclosedResources(b: AuditBody): string[] {
  if (b.type !== 'rest' || b.outcome !== '0' || !READ_ACTIONS.has(b.action)) return [];
  return b.subtype === 'batch-transaction' ? b.entities.filter((e) => !e.includes('/_history/')) : [...b.entities];
}

/**
 * Why a disclosure is not accountable, or undefined when it must be listed. A disclosure without
 * a recorded purpose is listed (conservative); one with several purposes is excluded only when
 * every purpose is.
 */
export function exclusionOf(b: AuditBody, patientId: string): Exclusion | undefined {
  // Patient logins (a later issue) record the patient as the user: those are to the individual.
  if (b.user === `Patient/${patientId}`) return 'individual';
  const purposes = b.purposeOfUse ?? [];
  if (purposes.length === 0) return undefined;
  const found = purposes.map((p) => EXCLUDED_PURPOSES.get(p));
  return found.every((e) => e !== undefined) ? found[0] : undefined;
}

/** Whether an entry belongs in `patientId`'s accounting of disclosures. */
export function isAccountable(b: AuditBody, patientId: string): boolean {
  return b.patients.includes(patientId) && disclosedResources(b).length > 0 && exclusionOf(b, patientId) === undefined;
}

/** A short description of what was disclosed: the interaction, and resource counts by type (no ids). */
export function describeDisclosure(b: AuditBody, patientId: string): string {
  const shown = new Set(resourcesFor(b, patientId).resources);
  const counts = new Map<string, number>();
  for (const e of disclosedResources(b)) {
    if (!shown.has(e)) continue;
    const type = e.slice(0, e.indexOf('/'));
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  const list = [...counts].map(([type, n]) => `${n} ${type}`).join(', ');
  const others = b.patients.some((p) => p !== patientId) ? " (in a result that also held other patients' data)" : '';
  return `${b.subtype}: ${list === '' ? 'resources about this patient' : list}${others}`;
}

const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const OUTCOME = 'http://hl7.org/fhir/audit-event-outcome';
const OUTCOME_DISPLAY: Record<string, string> = { '0': 'Success', '4': 'Minor failure', '8': 'Serious failure', '12': 'Major failure' };

function who(b: AuditBody): ParametersParameter[] {
  return [
    ...(b.client === undefined ? [] : [{ name: 'client', valueIdentifier: { system: 'urn:vigil:oauth-client', value: b.client } }]),
    ...(b.user === undefined ? [] : [{ name: 'user', valueIdentifier: { system: 'urn:vigil:user', value: b.user } }]),
  ];
}

/** One `access` parameter: when, who, what, why and how it ended. */
export function accessPart(row: AuditRow, patientId: string): ParametersParameter {
  const b = bodyOf(row);
  const { resources, otherPatients } = resourcesFor(b, patientId);
  return {
    name: 'access',
    part: [
      { name: 'event', valueReference: { reference: `AuditEvent/${row.seq}` } },
      { name: 'recorded', valueInstant: b.recorded },
      ...who(b),
      ...(b.roles ?? []).map((r) => ({ name: 'role', valueCoding: { system: 'urn:vigil:role', code: r } })),
      {
        name: 'interaction',
        valueCoding: b.type === 'security' ? { system: 'urn:vigil:security-event', code: b.subtype } : { system: 'http://hl7.org/fhir/restful-interaction', code: b.subtype },
      },
      { name: 'action', valueCode: b.action },
      ...resources.map((reference) => ({ name: 'resource', valueReference: { reference } })),
      ...(otherPatients ? [{ name: 'otherPatients', valueBoolean: true }] : []),
      ...(b.purposeOfUse ?? []).map((p) => ({ name: 'purposeOfUse', valueCoding: { system: ACT_REASON, code: p } })),
      { name: 'outcome', valueCoding: { system: OUTCOME, code: b.outcome, display: OUTCOME_DISPLAY[b.outcome] ?? b.outcome } },
      ...(b.reason === undefined ? [] : [{ name: 'reason', valueString: b.reason }]),
    ],
  };
}

/** One `disclosure` parameter of the accounting: date, recipient, description, purpose (164.528(b)(2)). */
export function disclosurePart(row: AuditRow, patientId: string, clientNames: ReadonlyMap<string, string>): ParametersParameter {
  const b = bodyOf(row);
  const name = b.client === undefined ? undefined : clientNames.get(b.client);
  const shown = new Set(resourcesFor(b, patientId).resources);
  const purposes = b.purposeOfUse ?? [];
  return {
    name: 'disclosure',
    part: [
      { name: 'event', valueReference: { reference: `AuditEvent/${row.seq}` } },
      { name: 'date', valueInstant: b.recorded },
      ...who(b).map((p) => (p.name === 'client' ? { ...p, name: 'recipient' } : p)),
      ...(name === undefined ? [] : [{ name: 'recipientName', valueString: name }]),
      { name: 'description', valueString: describeDisclosure(b, patientId) },
      ...disclosedResources(b).filter((e) => shown.has(e)).map((reference) => ({ name: 'resource', valueReference: { reference } })),
      {
        name: 'purpose',
        valueCodeableConcept: purposes.length === 0 ? { text: 'Not recorded' } : { coding: purposes.map((p) => ({ system: ACT_REASON, code: p })) },
      },
    ],
  };
}

export interface ReportPage {
  readonly type: ReportType;
  readonly patientId: string;
  /** When the report was made (ISO instant). */
  readonly generated: string;
  /** The window searched (ISO instants), when bounded. */
  readonly from?: string;
  readonly to?: string;
  readonly rows: readonly AuditRow[];
  /** Address of the next page, when there may be more. */
  readonly next?: string;
  /** Registered names of clients, by id (for the accounting's recipients). */
  readonly clientNames?: ReadonlyMap<string, string>;
}

/**
 * The report as a FHIR R4 Parameters resource: `patient`, `type`, `generated`, `period`, `count`,
 * `next`, then one `access` (or, for the accounting, `disclosure`) parameter per entry, newest
 * first. Ids and codes only: see docs/access-report.md.
 */
export function reportParameters(page: ReportPage): Parameters {
  const names = page.clientNames ?? new Map<string, string>();
  // A window that ends before it starts is empty, and is not shown (a Period needs start <= end).
  const inverted = page.from !== undefined && page.to !== undefined && page.from > page.to;
  const period = inverted || (page.from === undefined && page.to === undefined) ? undefined : { ...(page.from === undefined ? {} : { start: page.from }), ...(page.to === undefined ? {} : { end: page.to }) };
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'patient', valueReference: { reference: `Patient/${page.patientId}` } },
      { name: 'type', valueCode: page.type },
      { name: 'generated', valueInstant: page.generated },
      ...(period === undefined ? [] : [{ name: 'period', valuePeriod: period }]),
      { name: 'count', valueUnsignedInt: page.rows.length },
      ...(page.next === undefined ? [] : [{ name: 'next', valueUri: page.next }]),
      ...page.rows.map((row) => (page.type === 'access' ? accessPart(row, page.patientId) : disclosurePart(row, page.patientId, names))),
    ],
  };
}

/** The start of the accounting window: six years before the request (164.528(a)(1)). */
export function sixYearsBefore(now: Date): Date {
  const start = new Date(now.getTime());
  start.setUTCFullYear(start.getUTCFullYear() - 6);
  return start;
}
