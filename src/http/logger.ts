import pino, { type Logger } from 'pino';
import type { Config } from '../config/index.js';

/**
 * The JSON logger (pino). Request lines carry the route pattern (`/fhir/:type/:id`), never the
 * URL, whose path and query may hold ids and search values; headers are never logged.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'vigil' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { req: () => undefined, res: () => undefined },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
