import type { Rule } from '../types.js';

/**
 * A backup that failed (scheduled in the server or run from the CLI): the hospital's way back
 * from ransomware is not there, and someone must know now, not at the next restore.
 */
export const backupFailed: Rule = {
  name: 'backup-failed',
  description: 'A backup failed',
  defaults: { enabled: true, severity: 'high', response: 'alert' },
  async observe(e) {
    if (e.body.type !== 'security' || e.body.subtype !== 'backup-create' || e.body.outcome === '0') return [];
    return [{ rule: 'backup-failed', principal: e.principal ?? 'system/backup', evidence: [e.seq], explanation: `the backup ended with ${e.body.reason ?? 'an error'}; the last good backup is older than planned` }];
  },
};
