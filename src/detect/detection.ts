import type { ClientRegistry, SealedRecords, SessionStore, UserDirectory } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Repository } from '../fhir/index.js';
import type { AccessPolicy } from '../policy/index.js';
import type { Store } from '../store/index.js';
import { AlertStore } from './alerts.js';
import { DetectionEngine } from './engine.js';
import { RecordFacts } from './facts.js';
import { ServerMode } from './mode.js';
import { Notifier } from './notify.js';
import { Responder } from './responses.js';
import { createRules } from './rules/index.js';
import { loadRuleSettings } from './settings.js';

export interface DetectionDeps {
  readonly config: Config;
  readonly store: Store;
  readonly records: SealedRecords;
  readonly repository: Repository;
  readonly policy: AccessPolicy;
  readonly users: UserDirectory;
  readonly sessions: SessionStore;
  readonly clients: ClientRegistry;
  readonly now?: () => Date;
}

/** Detection as the runtime holds it: the mode, the alerts, the facts and the engine. */
export class Detection {
  readonly mode: ServerMode;
  readonly alerts: AlertStore;
  readonly facts: RecordFacts;
  readonly engine: DetectionEngine;
  /** Where engine and notification failures go (the server sets its logger). */
  onError: (err: unknown) => void = () => undefined;

  constructor(d: DetectionDeps) {
    const now = d.now ?? (() => new Date());
    this.mode = new ServerMode(d.records, now);
    this.alerts = new AlertStore(d.records, now);
    this.facts = new RecordFacts({ repository: d.repository, policy: d.policy, users: d.users, clients: d.clients, records: d.records, fhirBaseUrl: d.config.fhirBaseUrl, now });
    const rules = createRules();
    const settings = d.config.detectRulesFile === undefined ? {} : loadRuleSettings(d.config.detectRulesFile, rules);
    const responder = new Responder({ users: d.users, sessions: d.sessions, clients: d.clients, mode: this.mode, trail: d.repository.trail });
    const notifier = new Notifier({ webhook: d.config.alertWebhook, webhookSecret: d.config.alertWebhookSecret, syslog: d.config.alertSyslog });
    this.engine = new DetectionEngine({
      store: d.store,
      tenant: d.config.tenant,
      alerts: this.alerts,
      facts: this.facts,
      rules,
      settings,
      now,
      hooks: {
        respond: (alert, s) => responder.respond(alert, s),
        notify: (alert) => notifier.notify(alert),
        onError: (err) => this.onError(err),
      },
    });
  }
}
