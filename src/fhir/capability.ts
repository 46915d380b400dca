import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions.js';
import { searchParams } from './search/params.js';

export interface CapabilityOptions {
  readonly fhirBaseUrl: string;
  readonly tokenUrl: string;
  readonly version: string;
  readonly date: string;
}

/**
 * The CapabilityStatement: it claims only what this server does (no composite or special search
 * parameters, no PATCH, no system-wide search).
 */
export function capabilityStatement(o: CapabilityOptions): CapabilityStatement {
  const resource: CapabilityStatementRestResource[] = [...loadDefinitions()].sort().map((type) => ({
    type: type as CapabilityStatementRestResource['type'],

    interaction: [
      { code: 'read' },
      { code: 'vread' },
      { code: 'update' },
      { code: 'delete' },
      { code: 'history-instance' },
      { code: 'history-type' },
      { code: 'create' },
      { code: 'search-type' },
    ],
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    // Conditional create, update and delete work inside batch and transaction Bundles only, not
    // as headers and URLs of single interactions: they are not claimed here.
    conditionalCreate: false,
    conditionalRead: 'not-supported',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
    searchInclude: ['*', ...references(type).map((p) => `${type}:${p}`)],
    searchRevInclude: ['*'],
    ...(type === 'Patient' ? { operation: [{ name: 'access-report', definition: 'urn:vigil:OperationDefinition/access-report' }] } : {}),
    searchParam: [...searchParams(type).values()]
      .filter((p) => p.type !== 'composite' && p.type !== 'special')
      .map((p) => ({ name: p.code, type: p.type as 'string', definition: `http://hl7.org/fhir/SearchParameter/${definitionId(type, p.code)}` })),
  }));
  // The audit trail is read-only through the API, with its own few search parameters.
  const audit = resource.findIndex((r) => r.type === 'AuditEvent');
  if (audit >= 0) {
    resource[audit] = {
      type: 'AuditEvent',
      interaction: [{ code: 'read' }, { code: 'search-type' }],
      readHistory: false,
      updateCreate: false,
      searchParam: [
        { name: 'patient', type: 'reference' },
        { name: 'agent', type: 'token' },
        { name: 'action', type: 'token' },
        { name: 'outcome', type: 'token' },
        { name: 'date', type: 'date' },
      ],
    };
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: o.date,
    publisher: 'Vigil',
    kind: 'instance',
    software: { name: 'Vigil', version: o.version },
    implementation: { description: 'Vigil FHIR R4 server', url: o.fhirBaseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
              text: 'OAuth2 bearer tokens (SMART App Launch: authorization code with PKCE, client credentials); SMART v2 scopes',
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              // SMART oauth-uris: the other endpoints sit beside the token endpoint under /oauth2.
              extension: ['token', 'authorize', 'introspect', 'revoke'].map((url) => ({ url, valueUri: o.tokenUrl.replace(/\/token$/, `/${url}`) })),
            },
          ],
        },
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
      },
    ],
  };
}

function references(type: string): string[] {
  return [...searchParams(type).values()].filter((p) => p.type === 'reference').map((p) => p.code);
}

/** The id of a base SearchParameter: `Resource-id` style for shared ones, else `Type-code`. */
function definitionId(type: string, code: string): string {
  return code.startsWith('_') ? `Resource${code.replace('_', '-')}` : `${type}-${code}`;
}
