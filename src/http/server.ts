import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Vigil } from '../runtime/index.js';
import { buildApp } from './app.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly address: string;
  close(): Promise<void>;
}

/** How often keys added by other processes (`vigil keys rotate`) are picked up. */
const KEY_REFRESH_MS = 5000;

/** Builds the app and listens on the configured host and port. */
export async function startServer(vigil: Vigil, logger: Logger): Promise<RunningServer> {
  const app = await buildApp(vigil, { logger });
  const address = await app.listen({ host: vigil.config.host, port: vigil.config.port });
  const timer = setInterval(() => {
    vigil.refreshKeys().catch((err: unknown) => logger.error({ code: (err as { code?: string }).code }, 'key refresh failed'));
  }, KEY_REFRESH_MS);
  timer.unref();
  return {
    app,
    address,
    async close() {
      clearInterval(timer);
      await app.close();
    },
  };
}
