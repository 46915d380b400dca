import type { ClientRegistry, SessionStore, UserDirectory } from '../auth/index.js';
import type { AuditTrail } from '../audit/trail.js';
import type { Alert } from './alerts.js';
import type { ServerMode } from './mode.js';
import type { RuleSettings } from './types.js';

export interface ResponderOptions {
  readonly users: UserDirectory;
  readonly sessions: SessionStore;
  readonly clients: ClientRegistry;
  readonly mode: ServerMode;
  readonly trail: AuditTrail;
}

/**
 * The automatic answers to an alert, as each rule's `response` setting says: `lock` disables the
 * user (ending their sessions, so their tokens stop) or the client; `read-only` stops every write
 * until a security admin lifts it. Each answer is an audit entry of its own.
 */
export class Responder {
  readonly #o: ResponderOptions;

  constructor(options: ResponderOptions) {
    this.#o = options;
  }

  async respond(alert: Alert, settings: RuleSettings): Promise<void> {
    if (settings.response === 'lock') await this.#lock(alert);
    else if (settings.response === 'read-only') await this.#readOnly(alert);
  }

  async #lock(alert: Alert): Promise<void> {
    const [kind, id] = alert.principal.split('/', 2) as [string, string | undefined];
    if (id === undefined) return;
    if (kind === 'user') {
      const user = await this.#o.users.get(id);
      if (user === undefined) return;
      if (!user.disabled) await this.#o.users.disable(user.username);
      await this.#o.sessions.endAllForUser(id);
    } else if (kind === 'client') {
      await this.#o.clients.disable(id);
    } else return;
    await this.#audit('detect-lock', alert, [alert.principal]);
  }

  async #readOnly(alert: Alert): Promise<void> {
    const current = await this.#o.mode.get();
    if (current.mode === 'read-only') return;
    await this.#o.mode.set('read-only', `alert ${alert.id} (${alert.rule})`, `detect/${alert.rule}`);
    await this.#audit('detect-read-only', alert, []);
  }

  async #audit(subtype: string, alert: Alert, entities: string[]): Promise<void> {
    await this.#o.trail.record({
      type: 'security',
      subtype,
      action: 'E',
      outcome: '0',
      entities: [`alert/${alert.id}`, ...entities],
      patients: alert.patient === undefined ? [] : [alert.patient],
      decision: alert.rule,
    });
  }
}
