export { buildApp } from './app.js';
export type { AppOptions } from './app.js';
export { startServer } from './server.js';
export type { RunningServer, ServerOptions } from './server.js';
export { createLogger } from './logger.js';
export { STATUS } from './errors.js';
export { freePort } from './free-port.js';
