/**
 * SMART App Launch v2 scopes (`system/Patient.cruds`) and their v1 forms (`system/Patient.read`).
 *
 * A scope with a `?param=value` restriction grants only the resources that match it: `allows`
 * answers for unrestricted scopes alone, and `grants` lists every scope, restricted or not, so
 * the access policy (src/policy) can check each resource against the restrictions.
 */
export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export interface ResourceScope {
  readonly context: ScopeContext;
  /** A resource type, or `*` for all. */
  readonly type: string;
  readonly permissions: ReadonlySet<Permission>;
  /** The `?param=value` restriction, if any. */
  readonly restriction?: string;
  readonly text: string;
}

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)(\?.+)?$/;
const V2_ORDER = 'cruds';

/** Parses one scope; returns undefined for anything that is not a SMART resource scope. */
export function parseScope(text: string): ResourceScope | undefined {
  const m = SCOPE.exec(text);
  if (m === null) return undefined;
  const [, context, type, perms, restriction] = m as unknown as [string, ScopeContext, string, string, string | undefined];
  let permissions: Set<Permission>;
  if (perms === 'read') permissions = new Set(['r', 's']);
  else if (perms === 'write') permissions = new Set(['c', 'u', 'd']);
  else if (perms === '*') permissions = new Set(['c', 'r', 'u', 'd', 's']);
  else {
    // v2: a non-empty subsequence of c r u d s, in that order, each at most once.
    let at = 0;
    permissions = new Set();
    for (const ch of perms) {
      const i = V2_ORDER.indexOf(ch, at);
      if (i < 0) return undefined;
      permissions.add(ch as Permission);
      at = i + 1;
    }
  }
  return restriction === undefined ? { context, type, permissions, text } : { context, type, permissions, restriction, text };
}

/** A set of granted scopes, answering "may this token do X on type T?". */
export class ScopeSet {
  readonly scopes: readonly ResourceScope[];

  constructor(scopes: readonly ResourceScope[]) {
    this.scopes = scopes;
  }

  static parse(text: string): ScopeSet {
    const list: ResourceScope[] = [];
    for (const part of text.split(' ')) {
      const s = part === '' ? undefined : parseScope(part);
      if (s !== undefined) list.push(s);
    }
    return new ScopeSet(list);
  }

  /** Default deny: true only when an unrestricted scope of this context grants `perm` on `type`. */
  allows(context: ScopeContext, type: string, perm: Permission): boolean {
    return this.scopes.some(
      (s) => s.context === context && s.restriction === undefined && (s.type === '*' || s.type === type) && s.permissions.has(perm),
    );
  }

  /** Every scope of this context that grants `perm` on `type`, restricted ones included. */
  grants(context: ScopeContext, type: string, perm: Permission): ResourceScope[] {
    return this.scopes.filter((s) => s.context === context && (s.type === '*' || s.type === type) && s.permissions.has(perm));
  }

  /** True when every permission of `scope` is granted by one scope of this set. */
  covers(scope: ResourceScope): boolean {
    return this.scopes.some(
      (s) =>
        s.context === scope.context &&
        (s.type === '*' || s.type === scope.type) &&
        (s.restriction === undefined || s.restriction === scope.restriction) &&
        [...scope.permissions].every((p) => s.permissions.has(p)),
    );
  }

  toString(): string {
    return this.scopes.map((s) => s.text).join(' ');
  }
}
