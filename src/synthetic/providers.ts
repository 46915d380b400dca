import type { Address, Bundle, Location, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { TransactionBuilder, ref } from './bundle.js';
import { CULTURES, ORGANIZATION_KINDS, PLACES, STREETS, STREET_KINDS, asciiSlug, fictionalPhone, type Place } from './names.js';
import type { Rng } from './random.js';
import { LOCATION_SYSTEM, NPI_SYSTEM, NUCC, TERMINOLOGY, concept, hl7, npiCheckDigit } from './systems.js';
import { TUNING } from './tuning.js';

export interface OrganizationInfo {
  readonly npi: string;
  readonly name: string;
  readonly place: Place;
  readonly locationId: string;
  readonly locationName: string;
  /** Practitioner indexes of its staff (never empty). */
  readonly staff: number[];
  /** Those of its staff in primary care (family or internal medicine, pediatrics, family NPs, PAs), and in emergency medicine. */
  readonly primaryCare: number[];
  readonly emergency: number[];
}

export interface PractitionerInfo {
  readonly npi: string;
  /** The name as shown in references, e.g. `Dr. Hélène Lefèvre`. */
  readonly display: string;
  readonly organization: number;
}

/** Who and where care is given; patient records point into it by conditional reference. */
export interface ProviderDirectory {
  readonly organizations: readonly OrganizationInfo[];
  readonly practitioners: readonly PractitionerInfo[];
}

interface Specialty {
  readonly code: string;
  readonly display: string;
  readonly degree: 'MD' | 'DO' | 'NP' | 'PA';
  readonly weight: number;
  readonly role: 'primary' | 'emergency' | 'specialist';
}

const SPECIALTIES: readonly Specialty[] = [
  { code: '207Q00000X', display: 'Family Medicine', degree: 'MD', weight: 30, role: 'primary' },
  { code: '207R00000X', display: 'Internal Medicine', degree: 'MD', weight: 20, role: 'primary' },
  { code: '208000000X', display: 'Pediatrics', degree: 'MD', weight: 12, role: 'primary' },
  { code: '207P00000X', display: 'Emergency Medicine', degree: 'DO', weight: 10, role: 'emergency' },
  { code: '207RC0000X', display: 'Cardiovascular Disease', degree: 'MD', weight: 5, role: 'specialist' },
  { code: '363LF0000X', display: 'Nurse Practitioner, Family', degree: 'NP', weight: 15, role: 'primary' },
  { code: '363A00000X', display: 'Physician Assistant', degree: 'PA', weight: 8, role: 'primary' },
];

const DEGREES = { MD: 'Doctor of Medicine', DO: 'Doctor of Osteopathy', NP: 'Nurse practitioner', PA: 'Physician Assistant' } as const;

/** How many organizations and practitioners a data set of `patients` patients has. */
export function providerCounts(patients: number): { organizations: number; practitioners: number } {
  return {
    organizations: Math.max(TUNING.minOrganizations, Math.round(patients / TUNING.patientsPerOrganization)),
    practitioners: Math.max(TUNING.minPractitioners, Math.round(patients / TUNING.patientsPerPractitioner)),
  };
}

/**
 * Ten-digit NPIs that CMS never issues (real ones start with 1 or 2), unique within the data set:
 * `i -> (i * A + offset) mod 10^7` is a bijection because A is coprime with 10. The check digit is a real one.
 */
function npiMaker(prefix: '98' | '99', offset: number): (i: number) => string {
  return (i) => {
    const base = `${prefix}${String((i * 3_162_277 + offset) % 10_000_000).padStart(7, '0')}`;
    return `${base}${npiCheckDigit(base)}`;
  };
}

function address(rng: Rng, place: Place): Address {
  return {
    use: 'work',
    type: 'both',
    line: [`${rng.int(1, 2999)} ${rng.pick(STREETS)} ${rng.pick(STREET_KINDS)}`],
    city: place.city,
    state: place.state,
    postalCode: `${place.zip3}${String(rng.int(0, 99)).padStart(2, '0')}`,
    country: 'US',
  };
}

/**
 * The organizations (one per ~500 patients), their main locations and their practitioners (one per
 * ~50 patients) with their roles, as one transaction Bundle, plus the directory patient records use.
 */
export function buildProviders(rng: Rng, patients: number): { directory: ProviderDirectory; bundle: Bundle } {
  const counts = providerCounts(patients);
  const tx = new TransactionBuilder(rng);
  const orgNpi = npiMaker('98', rng.int(0, 9_999_999));
  const practitionerNpi = npiMaker('99', rng.int(0, 9_999_999));
  const organizations: OrganizationInfo[] = [];
  const orgUrls: string[] = [];
  const locUrls: string[] = [];
  const addresses: Address[] = [];

  for (let i = 0; i < counts.organizations; i++) {
    const place = rng.pick(PLACES);
    const kind = rng.pick(ORGANIZATION_KINDS);
    const name = `${place.city} ${kind}`;
    const npi = orgNpi(i);
    const phone = fictionalPhone(place.areaCode, rng.int(0, 99));
    const addr = address(rng, place);
    const organization: Organization = {
      resourceType: 'Organization',
      identifier: [{ use: 'official', system: NPI_SYSTEM, value: npi }],
      active: true,
      type: [hl7('organization-type', 'prov', 'Healthcare Provider')],
      name,
      telecom: [{ system: 'phone', value: phone, use: 'work' }],
      address: [addr],
    };
    const orgUrl = tx.add(organization);
    const hospital = /Hospital|Medical Center/.test(kind);
    const locationName = hospital ? `${name}, Main Campus` : name;
    const location: Location = {
      resourceType: 'Location',
      identifier: [{ use: 'official', system: LOCATION_SYSTEM, value: `L${npi}` }],
      status: 'active',
      name: locationName,
      mode: 'instance',
      type: [hl7('v3-RoleCode', hospital ? 'HOSP' : 'OF', hospital ? 'Hospital' : 'Outpatient facility')],
      telecom: [{ system: 'phone', value: phone, use: 'work' }],
      address: addr,
      physicalType: hl7('location-physical-type', 'bu', 'Building'),
      managingOrganization: ref<Organization>(orgUrl, name),
    };
    locUrls.push(tx.add(location));
    orgUrls.push(orgUrl);
    addresses.push(addr);
    organizations.push({ npi, name, place, locationId: `L${npi}`, locationName, staff: [], primaryCare: [], emergency: [] });
  }

  const practitioners: PractitionerInfo[] = [];
  for (let i = 0; i < counts.practitioners; i++) {
    // Round-robin, so every organization has staff: there are always more practitioners than organizations.
    const orgIndex = i % counts.organizations;
    const org = organizations[orgIndex] as OrganizationInfo;
    const culture = rng.weighted(CULTURES, (c) => c.weight);
    const female = rng.chance(0.5);
    const given = rng.pick(female ? culture.female : culture.male);
    const family = rng.pick(culture.family);
    const specialty = rng.weighted(SPECIALTIES, (s) => s.weight);
    const doctor = specialty.degree === 'MD' || specialty.degree === 'DO';
    const display = `${doctor ? 'Dr. ' : ''}${given} ${family}${doctor ? '' : `, ${specialty.degree}`}`;
    const npi = practitionerNpi(i);
    const phone = fictionalPhone(org.place.areaCode, rng.int(0, 99));
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      identifier: [{ use: 'official', system: NPI_SYSTEM, value: npi }],
      active: true,
      name: [{ use: 'official', family, given: [given], ...(doctor ? { prefix: ['Dr.'] } : {}) }],
      telecom: [
        { system: 'phone', value: phone, use: 'work' },
        { system: 'email', value: `${asciiSlug(given)}.${asciiSlug(family)}${i + 1}@${asciiSlug(org.name)}.example`, use: 'work' },
      ],
      address: [addresses[orgIndex] as Address],
      gender: female ? 'female' : 'male',
      qualification: [{ code: { coding: [{ system: `${TERMINOLOGY}/v2-0360/2.7`, code: specialty.degree, display: DEGREES[specialty.degree] }], text: DEGREES[specialty.degree] } }],
    };
    const practitionerUrl = tx.add(practitioner);
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: ref<Practitioner>(practitionerUrl, display),
      organization: ref<Organization>(orgUrls[orgIndex] as string, org.name),
      code: [hl7('practitioner-role', specialty.degree === 'NP' ? 'nurse' : 'doctor', specialty.degree === 'NP' ? 'Nurse' : 'Doctor')],
      specialty: [concept(NUCC, specialty.code, specialty.display)],
      location: [ref<Location>(locUrls[orgIndex] as string, org.locationName)],
      telecom: [{ system: 'phone', value: phone, use: 'work' }],
    };
    tx.add(role);
    org.staff.push(i);
    if (specialty.role === 'primary') org.primaryCare.push(i);
    if (specialty.role === 'emergency') org.emergency.push(i);
    practitioners.push({ npi, display, organization: orgIndex });
  }
  return { directory: { organizations, practitioners }, bundle: tx.build() };
}
