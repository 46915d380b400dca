import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions.js';

export interface CapabilityOptions {
  readonly fhirBaseUrl: string;
  readonly tokenUrl: string;
  readonly version: string;
  readonly date: string;
}

/**
 * The CapabilityStatement: it claims only what this server does. Search, batch and transaction
 * are not advertised until they are implemented.
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
    ],
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: false,
    conditionalRead: 'not-supported',
    conditionalUpdate: false,
    conditionalDelete: 'not-supported',
  }));
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
              text: 'OAuth2 bearer tokens (client credentials); SMART v2 system scopes',
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: o.tokenUrl }],
            },
          ],
        },
        resource,
        interaction: [{ code: 'history-system' }],
      },
    ],
  };
}
