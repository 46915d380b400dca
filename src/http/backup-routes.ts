import type { FastifyInstance } from 'fastify';
import type { Vigil } from '../runtime/index.js';
import type { BackupStatus } from '../backup/index.js';
import { adminGuard, auditAdmin, sendJson } from './admin-guard.js';

/** What the backup route reads: the server's scheduler (src/backup/scheduler.ts). */
export interface BackupStatusSource {
  status(): BackupStatus;
}

/**
 * `GET /admin/backups` (security-admin only): whether scheduled backups run, where to, how often,
 * and the last one's time and result. A server without a schedule answers `enabled: false`.
 */
export function registerBackupRoutes(app: FastifyInstance, vigil: Vigil, backups: BackupStatusSource | undefined): void {
  const preHandler = adminGuard(vigil.tokens);
  app.get('/admin/backups', { preHandler }, async (request, reply) => {
    auditAdmin(request, 'backup-status');
    const none: BackupStatus = { enabled: false, dir: null, intervalMinutes: 0, running: false, last: null, lastSuccessAt: null, nextAt: null };
    return sendJson(reply, 200, backups?.status() ?? none);
  });
}
