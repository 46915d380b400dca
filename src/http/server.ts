import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Vigil } from '../runtime/index.js';
import { buildApp } from './app.js';
import { BackupScheduler, type BackupRun } from '../backup/index.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly address: string;
  close(): Promise<void>;
}

/** How often keys added by other processes (`vigil keys rotate`) are picked up. */
const KEY_REFRESH_MS = 5000;

/** Hooks of the running server. */
export interface ServerOptions {
  /** Told when a scheduled backup fails (wire an alert here); it is also logged and audited. */
  readonly onBackupFailed?: (error: unknown, run: BackupRun) => void;
}

/** Builds the app and listens on the configured host and port. */
export async function startServer(vigil: Vigil, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  // Scheduled backups (VIGIL_BACKUP_DIR every VIGIL_BACKUP_INTERVAL minutes); GET /admin/backups shows the last one.
  const backups = new BackupScheduler(vigil, {
    dir: vigil.config.backupDir,
    intervalMinutes: vigil.config.backupIntervalMinutes,
    onBackupFailed: (error, run) => {
      logger.error({ code: run.error?.code }, 'scheduled backup failed');
      options.onBackupFailed?.(error, run);
    },
  });
  const app = await buildApp(vigil, { logger, backups });
  // A checkpoint at start: whatever was written before is covered by a signed statement.
  await vigil.log.checkpoint();
  const address = await app.listen({ host: vigil.config.host, port: vigil.config.port });
  const timer = setInterval(() => {
    vigil.refreshKeys().catch((err: unknown) => logger.error({ code: (err as { code?: string }).code }, 'key refresh failed'));
  }, KEY_REFRESH_MS);
  timer.unref();
  // Signed checkpoints at the configured interval, and planner statistics every 10 minutes.
  const every = vigil.config.checkpointInterval;
  const checkpoints = every > 0 ? setInterval(() => void vigil.log.checkpoint().catch((err: unknown) => logger.error({ code: (err as { code?: string }).code }, 'checkpoint failed')), every * 1000) : undefined;
  checkpoints?.unref();
  const stats = setInterval(() => void vigil.store.optimize().catch(() => undefined), 600_000);
  stats.unref();
  backups.start();
  // Detection reads the audit trail as it is committed (this process's and any other's).
  if (vigil.config.detect) {
    vigil.detection.onError = (err) => logger.warn({ code: (err as { code?: string }).code }, 'detection: a rule, response or notification failed');
    await vigil.detection.engine.start();
  }
  return {
    app,
    address,
    async close() {
      clearInterval(timer);
      if (checkpoints !== undefined) clearInterval(checkpoints);
      clearInterval(stats);
      await backups.stop();
      await vigil.detection.engine.stop();
      await app.close();
      // A last checkpoint covers everything written until the stop.
      await vigil.log.checkpoint().catch(() => undefined);
    },
  };
}
