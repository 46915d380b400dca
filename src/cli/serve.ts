import type { Command } from 'commander';
import { VigilError } from '../errors.js';
import { openVigil } from '../runtime/index.js';
import { createLogger, freePort, startServer } from '../http/index.js';
import { configFrom, dataOption } from './common.js';

export function serveCommand(program: Command): void {
  dataOption(program.command('serve').description('serve FHIR R4 at /fhir (what `npm start` runs)'))
    .option('--host <host>', 'address to bind (default: VIGIL_HOST, then 127.0.0.1)')
    .option('--port <port>', 'port (default: VIGIL_PORT, then 8080; 0 picks a free one)')
    .action(async (opts: { data?: string; host?: string; port?: string }) => {
      let config = configFrom(opts, {
        ...(opts.host === undefined ? {} : { host: opts.host }),
        ...(opts.port === undefined ? {} : { port: Number(opts.port) }),
      });
      if (config.port === 0) config = configFrom(opts, { host: config.host, port: await freePort(config.host) });
      const logger = createLogger(config);
      const vigil = await openVigil(config, { create: true, onWitnessError: () => logger.warn('the checkpoint witness could not be reached; the checkpoint is stored and the next one will be sent') });
      if (vigil.bootstrapFile !== undefined) {
        // The path only: the secret itself never goes to a log.
        logger.warn({ path: vigil.bootstrapFile }, 'bootstrap admin client created; its credentials are in this file (mode 0600)');
      }
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(vigil, logger);
      } catch (err) {
        await vigil.close();
        if ((err as { code?: string }).code === 'EADDRINUSE') {
          throw new VigilError('ERR_CONFIG', `Vigil cannot start: ${config.host}:${config.port} is already in use`);
        }
        throw err;
      }
      logger.info({ fhirBaseUrl: config.fhirBaseUrl, address: server.address, dataDir: config.dataDir }, 'vigil is serving FHIR R4');
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        server
          .close()
          .then(() => vigil.close())
          .then(() => process.exit(0))
          .catch(() => process.exit(1));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
