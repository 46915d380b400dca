import type { Resource } from '@medplum/fhirtypes';
import { paramValues, searchParam } from '../fhir/index.js';

/**
 * Whether a resource matches a SMART scope restriction (`?category=laboratory&status=final`).
 * Every name must be a token parameter of the resource's type (`code`, `category`, `status`,
 * `_tag`, `_security`...); values are `code`, `system|code`, `|code` or `system|`, several
 * separated by commas (any may match); repeated names must all match. A restriction on any other
 * kind of parameter matches nothing: what cannot be checked is not granted.
 */
export function restrictionMatches(resource: Resource, restriction: string, fhirBaseUrl: string): boolean {
  const query = restriction.startsWith('?') ? restriction.slice(1) : restriction;
  const pairs = [...new URLSearchParams(query)];
  if (pairs.length === 0) return false;
  return pairs.every(([name, value]) => {
    const param = searchParam(resource.resourceType, name);
    if (param?.type !== 'token') return false;
    const found = paramValues(resource, param, fhirBaseUrl);
    if (found?.type !== 'token') return false;
    return value.split(',').some((alt) => {
      const bar = alt.indexOf('|');
      if (bar < 0) return found.values.some((t) => t.code === alt);
      const system = alt.slice(0, bar);
      const code = alt.slice(bar + 1);
      return found.values.some((t) => (code === '' || t.code === code) && (system === '' ? t.system === undefined : t.system === system));
    });
  });
}
