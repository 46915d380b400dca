export { loadConfig, isLoopbackHost, httpsOrLoopback, ENV_KEYS, parseSyslogWitness } from './config.js';
export type { Config, ConfigOverrides, SyslogWitness } from './config.js';
