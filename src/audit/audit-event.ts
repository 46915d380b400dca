import type { AuditEvent, AuditEventAgent, AuditEventEntity } from '@medplum/fhirtypes';
import type { AuditRow } from '../store/index.js';
import type { AuditBody } from './trail.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
/** Security events that are sign-in steps (DICOM 110114 User Authentication); others are 110113. */
const AUTHENTICATION = new Set(['token', 'authorize', 'login', 'login-failed', 'logout', 'mfa', 'mfa-enrol', 'consent', 'token-refresh', 'refresh-reuse']);

/**
 * Renders a stored audit entry as a FHIR R4 AuditEvent shaped after the IHE Basic Audit Log
 * Patterns (BALP): type and subtype, action, outcome, recorded time, the client as the requesting
 * agent (with roles, purpose of use and network address), this server as the other agent and as
 * the observer, the resources and patients as entities, and the request id.
 */
export function toAuditEvent(row: AuditRow, serverName: string): AuditEvent {
  const b = JSON.parse(row.body) as AuditBody;
  const agents: AuditEventAgent[] = [
    {
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      requestor: true,
      ...(b.client === undefined ? { who: { display: 'unauthenticated' } } : { who: { identifier: { system: 'urn:vigil:oauth-client', value: b.client } } }),
      ...(b.roles === undefined || b.roles.length === 0 ? {} : { role: b.roles.map((r) => ({ coding: [{ system: 'urn:vigil:role', code: r }] })) }),
      ...(b.purposeOfUse === undefined ? {} : { purposeOfUse: b.purposeOfUse.map((p) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: p }] })) }),
      ...(b.address === undefined ? {} : { network: { address: b.address, type: '2' as const } }),
    },
    { type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, requestor: false, who: { display: serverName } },
  ];
  if (b.user !== undefined) {
    agents.splice(1, 0, { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] }, requestor: true, who: { identifier: { system: 'urn:vigil:user', value: b.user } } });
  }
  const entities: AuditEventEntity[] = [
    ...b.entities.map((reference) => ({
      what: { reference },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    })),
    ...b.patients.map((id) => ({
      what: { reference: `Patient/${id}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    })),
  ];
  if (b.requestId !== undefined) {
    entities.push({ what: { identifier: { value: b.requestId } }, type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId' } });
  }
  const security = b.type === 'security';
  return {
    resourceType: 'AuditEvent',
    id: String(row.seq),
    type: !security
      ? { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' }
      : AUTHENTICATION.has(b.subtype)
        ? { system: DCM, code: '110114', display: 'User Authentication' }
        : { system: DCM, code: '110113', display: 'Security Alert' },
    subtype: [security ? { system: 'urn:vigil:security-event', code: b.subtype } : { system: 'http://hl7.org/fhir/restful-interaction', code: b.subtype }],
    action: b.action,
    recorded: b.recorded,
    outcome: b.outcome,
    ...(b.reason === undefined ? (b.decision === undefined ? {} : { outcomeDesc: `policy: ${b.decision}` }) : { outcomeDesc: b.reason }),
    agent: agents,
    source: { observer: { display: serverName }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    ...(entities.length === 0 ? {} : { entity: entities }),
  };
}
