import type { CodeableConcept, Coding, Quantity } from '@medplum/fhirtypes';

/** Code systems, as their canonical URIs. */
export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
export const UCUM = 'http://unitsofmeasure.org';
export const NUCC = 'http://nucc.org/provider-taxonomy';
export const BCP47 = 'urn:ietf:bcp:47';
export const TERMINOLOGY = 'http://terminology.hl7.org/CodeSystem';

/** Identifier systems. NPIs are the real US system; the numbers generated under it are never issued ones. */
export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
/** Local systems live under the reserved `.example` domain (RFC 2606): plainly synthetic. */
export const MRN_SYSTEM = 'https://vigil.example/sid/mrn';
export const LOCATION_SYSTEM = 'https://vigil.example/sid/location';

export function coding(system: string, code: string, display: string): Coding {
  return { system, code, display };
}

/** A CodeableConcept with one coding and the display as its text, as Synthea writes them. */
export function concept(system: string, code: string, display: string): CodeableConcept {
  return { coding: [{ system, code, display }], text: display };
}

/** A CodeableConcept from one of the HL7 terminology code systems (`condition-clinical`, ...). */
export function hl7(codeSystem: string, code: string, display?: string): CodeableConcept {
  const system = `${TERMINOLOGY}/${codeSystem}`;
  return { coding: [display === undefined ? { system, code } : { system, code, display }] };
}

/** A UCUM quantity; `unit` is what a person reads, `code` what a machine compares. */
export function quantity(value: number, code: string, unit: string = code): Quantity {
  return { value, unit, system: UCUM, code };
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The Luhn check digit of an NPI, computed over the `80840` prefix as CMS specifies.
 *
 * @example
 * npiCheckDigit('123456789'); // 3 (the CMS example NPI 1234567893)
 */
export function npiCheckDigit(base9: string): number {
  const digits = `80840${base9}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
