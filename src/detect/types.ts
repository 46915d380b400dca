import type { AuditBody } from '../audit/trail.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
/** What the engine does besides storing the alert: nothing more, lock the principal, or stop writes. */
export type Response = 'alert' | 'lock' | 'read-only';

/** One committed audit entry, as the rules see it. */
export interface Entry {
  readonly seq: number;
  readonly body: AuditBody;
  /** `user/<id>` or `client/<id>`, when the entry names one. */
  readonly principal: string | undefined;
  /** Milliseconds since the epoch of `body.recorded`. */
  readonly at: number;
}

/** What a rule found: the engine turns it into an alert (or adds the evidence to an open one). */
export interface Finding {
  readonly rule: string;
  readonly principal: string;
  readonly patient?: string;
  /** Audit entry sequence numbers that show it. */
  readonly evidence: readonly number[];
  /** What explanation was missing (no names or values: ids, counts, rule terms). */
  readonly explanation: string;
}

/** Settings every rule has, plus its own thresholds. */
export interface RuleSettings {
  readonly enabled: boolean;
  readonly severity: Severity;
  readonly response: Response;
  readonly [threshold: string]: unknown;
}

/** Facts a rule may ask of the record (cached by the engine; see facts.ts). */
export interface Facts {
  /** Whether the patient has an appointment, encounter, care team, order or episode naming this principal's practitioner, or any appointment or encounter within the window (front desk). */
  explained(principal: string, patient: string, fhirUser: string | undefined): Promise<string | undefined>;
  isVip(patient: string): Promise<boolean>;
  isHoneytoken(patient: string): Promise<boolean>;
  /** How the user relates to the patient personally: `self`, `same-surname`, `same-address`, or undefined. */
  personalTie(userId: string, patient: string): Promise<'self' | 'same-surname' | 'same-address' | undefined>;
  userFhirUser(userId: string): Promise<string | undefined>;
  userDisabled(userId: string): Promise<boolean>;
  clientDisabled(clientId: string): Promise<boolean>;
  /** Other patients holding one of this patient's identifiers (same system and value); a few are enough. */
  sharedIdentifiers(patient: string): Promise<string[]>;
  /** Whether the Patient's latest update changed its address or telecom. */
  demographicsChanged(patient: string, versionId: number): Promise<boolean>;
  /** Shannon entropy (bits per character) of the free text in the written version, and its length. */
  writtenTextEntropy(type: string, id: string, versionId: number): Promise<{ bits: number; length: number } | undefined>;
}

export interface RuleContext {
  readonly settings: RuleSettings;
  readonly facts: Facts;
}

/**
 * A detection rule: it sees every committed audit entry, in order, and may report findings. It
 * keeps its own short memory (sliding windows); everything else it asks of `facts`.
 */
export interface Rule {
  readonly name: string;
  readonly description: string;
  readonly defaults: RuleSettings;
  observe(entry: Entry, ctx: RuleContext): Promise<Finding[]>;
}
