import type { Rule } from '../types.js';
import { backupFailed } from './backup-failed.js';
import { bruteForce } from './brute-force.js';
import { bulkAccess } from './bulk-access.js';
import { disabledPrincipal } from './disabled-principal.js';
import { familyAccess } from './family-access.js';
import { honeytoken } from './honeytoken.js';
import { identityTheft } from './identity-theft.js';
import { ransomwareBurst } from './ransomware-burst.js';
import { repeatedDenials } from './repeated-denials.js';
import { selfAccess } from './self-access.js';
import { unexplainedAccess } from './unexplained-access.js';
import { unusualActivity } from './unusual-activity.js';
import { vipAccess } from './vip-access.js';

/** A fresh set of every detection rule (rules with memory keep it per engine), in the order they see each entry. */
export function createRules(): Rule[] {
  return [honeytoken, unexplainedAccess, vipAccess, selfAccess, familyAccess, bulkAccess(), unusualActivity(), repeatedDenials(), bruteForce(), disabledPrincipal, identityTheft(), ransomwareBurst(), backupFailed];
}
