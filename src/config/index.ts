export { loadConfig, isLoopbackHost, ENV_KEYS } from './config.js';
export type { Config, ConfigOverrides } from './config.js';
