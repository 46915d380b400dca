export { openVigil } from './open.js';
export type { Vigil, OpenOptions } from './open.js';
