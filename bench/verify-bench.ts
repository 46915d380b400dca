/**
 * The audit-heavy log of the bench's log part: what `vigil verify` meets in a running hospital,
 * where every read and search is audited and writes are a small fraction of the log. Versions are
 * written as the FHIR API writes them (one create with its own audit entry), then read or
 * search entries per version through the audit trail, then one signed checkpoint.
 */
import { AuditTrail, type AuditDraft } from '../src/audit/index.js';
import { loadConfig } from '../src/config/index.js';
import { openVigil } from '../src/runtime/index.js';

/** Writes in flight at once, so the store's group commit batches them as it does under load. */
const IN_FLIGHT = 64;

/** What the audit-heavy log holds. */
export interface AuditHeavyLog {
  readonly versions: number;
  readonly auditEntries: number;
}

/**
 * Creates `dataDir` with `versions` Patients and `auditsPerVersion` audit entries per version (the
 * create's own entry included), and signs a checkpoint over them.
 *
 * @example
 * await writeAuditHeavyLog('/tmp/v', 5000, 10, syntheticPatient); // 55,000 leaves
 */
export async function writeAuditHeavyLog(dataDir: string, versions: number, auditsPerVersion: number, patient: (i: number) => Record<string, unknown>): Promise<AuditHeavyLog> {
  const vigil = await openVigil(loadConfig({}, { dataDir }), { create: true });
  try {
    const trail = new AuditTrail(vigil.store, vigil.config.tenant);
    const clinician = { client: 'ehr-app', user: 'dr-bench', roles: ['clinician'], purposeOfUse: ['TREAT'], address: '10.0.0.7' };
    let auditEntries = 0;
    await inBatches(versions, async (i) => {
      const created = await vigil.repository.create('Patient', patient(i), { type: 'rest', subtype: 'create', action: 'C', ...clinician, entities: [], patients: [], resourceType: 'Patient', status: 201 });
      const id = created.version.id;
      auditEntries += 1;
      for (let k = 1; k < auditsPerVersion; k++) {
        // Mostly reads of the record, some searches that disclosed it among others.
        const draft: AuditDraft =
          k % 3 === 0
            ? { type: 'rest', subtype: 'search-type', action: 'E', ...clinician, entities: [`Patient/${id}`, `Observation/${id}-${k}`], patients: [id], resourceType: 'Observation', queryParams: ['patient', 'code'], requestId: `req-${i}-${k}`, status: 200 }
            : { type: 'rest', subtype: 'read', action: 'R', ...clinician, entities: [`Patient/${id}`], patients: [id], requestId: `req-${i}-${k}`, status: 200 };
        await trail.record(draft);
        auditEntries += 1;
      }
    });
    await vigil.log.checkpoint();
    return { versions, auditEntries };
  } finally {
    await vigil.close();
  }
}

/** Runs `work(0..n-1)` with IN_FLIGHT of them at a time. */
async function inBatches(n: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, async () => {
    while (next < n) await work(next++);
  }));
}
