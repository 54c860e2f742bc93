// Atlas user roles: the one table of valid role names, the display names the spec's
// `x-rolesRequirements` uses for them, and which held roles satisfy which required role.
// The 2026 spec no longer enumerates project roles, so validation and authorization both
// read this table (MongoDB's "Atlas User Roles" page lists the same pairs).

export type RoleScope = 'org' | 'project';

export interface RoleDefinition {
  /** The API name (`GROUP_OWNER`). */
  name: string;
  /** The name Atlas's UI and `x-rolesRequirements` use (`Project Owner`). */
  displayName: string;
  scope: RoleScope;
}

export const ROLE_CATALOGUE: readonly RoleDefinition[] = [
  { name: 'ORG_OWNER', displayName: 'Organization Owner', scope: 'org' },
  { name: 'ORG_GROUP_CREATOR', displayName: 'Organization Project Creator', scope: 'org' },
  { name: 'ORG_BILLING_ADMIN', displayName: 'Organization Billing Admin', scope: 'org' },
  { name: 'ORG_BILLING_READ_ONLY', displayName: 'Organization Billing Viewer', scope: 'org' },
  { name: 'ORG_STREAM_PROCESSING_ADMIN', displayName: 'Organization Stream Processing Admin', scope: 'org' },
  { name: 'ORG_READ_ONLY', displayName: 'Organization Read Only', scope: 'org' },
  { name: 'ORG_MEMBER', displayName: 'Organization Member', scope: 'org' },
  { name: 'GROUP_OWNER', displayName: 'Project Owner', scope: 'project' },
  { name: 'GROUP_CLUSTER_MANAGER', displayName: 'Project Cluster Manager', scope: 'project' },
  { name: 'GROUP_STREAM_PROCESSING_OWNER', displayName: 'Project Stream Processing Owner', scope: 'project' },
  { name: 'GROUP_DATA_ACCESS_ADMIN', displayName: 'Project Data Access Admin', scope: 'project' },
  { name: 'GROUP_DATA_ACCESS_READ_WRITE', displayName: 'Project Data Access Read Write', scope: 'project' },
  { name: 'GROUP_DATA_ACCESS_READ_ONLY', displayName: 'Project Data Access Read Only', scope: 'project' },
  { name: 'GROUP_DATABASE_ACCESS_ADMIN', displayName: 'Project Database Access Admin', scope: 'project' },
  { name: 'GROUP_SEARCH_INDEX_EDITOR', displayName: 'Project Search Index Editor', scope: 'project' },
  { name: 'GROUP_BACKUP_MANAGER', displayName: 'Project Backup Manager', scope: 'project' },
  { name: 'GROUP_OBSERVABILITY_VIEWER', displayName: 'Project Observability Viewer', scope: 'project' },
  { name: 'GROUP_READ_ONLY', displayName: 'Project Read Only', scope: 'project' },
];

/**
 * Display names `x-rolesRequirements` uses that are no role of their own. "Project Stream
 * Processing Manager" is the requirements' name for Project Stream Processing Owner; "Project
 * Access Manager" names the right to manage a project's access, which no assignable API role
 * grants apart from Project Owner (both inferred; see docs/differences-from-atlas.md).
 */
const REQUIREMENT_ALIASES: Readonly<Record<string, string>> = {
  'Project Stream Processing Manager': 'GROUP_STREAM_PROCESSING_OWNER',
  'Project Access Manager': 'GROUP_OWNER',
};

const BY_DISPLAY_NAME = new Map(ROLE_CATALOGUE.map((r) => [r.displayName, r.name]));

export const ORG_ROLES: readonly string[] = ROLE_CATALOGUE.filter((r) => r.scope === 'org').map((r) => r.name);
export const PROJECT_ROLES: readonly string[] = ROLE_CATALOGUE.filter((r) => r.scope === 'project').map((r) => r.name);

/** The API role a requirement's display name stands for; undefined for a name this table lacks. */
export function roleForRequirement(displayName: string): string | undefined {
  return BY_DISPLAY_NAME.get(displayName) ?? REQUIREMENT_ALIASES[displayName];
}

const requiredCache = new WeakMap<object, readonly string[]>();

/** The API roles of which a caller needs one for an operation (none: any authenticated caller). */
export function requiredRoles(operation: { authorization: { requirements: readonly string[] } }): readonly string[] {
  let roles = requiredCache.get(operation);
  if (!roles) {
    roles = operation.authorization.requirements.map((displayName) => {
      const role = roleForRequirement(displayName);
      if (!role) throw new Error(`unknown role requirement "${displayName}"`);
      return role;
    });
    requiredCache.set(operation, roles);
  }
  return roles;
}

const PROJECT_DATA_ACCESS = ['GROUP_DATA_ACCESS_ADMIN', 'GROUP_DATA_ACCESS_READ_WRITE', 'GROUP_DATA_ACCESS_READ_ONLY'];

/** required role -> held roles that grant it (besides itself and the scope's owner). */
const GRANTED_BY: Record<string, string[]> = {
  GROUP_READ_ONLY: ['*GROUP'],
  GROUP_DATA_ACCESS_READ_ONLY: PROJECT_DATA_ACCESS.filter((r) => r !== 'GROUP_DATA_ACCESS_READ_ONLY'),
  GROUP_DATA_ACCESS_READ_WRITE: ['GROUP_DATA_ACCESS_ADMIN'],
  ORG_MEMBER: ['*ORG'],
  ORG_READ_ONLY: ['ORG_STREAM_PROCESSING_ADMIN'],
};

function grants(held: string, required: string): boolean {
  if (held === required) return true;
  // The owner of a scope holds every role of that scope.
  if (held === 'GROUP_OWNER' && required.startsWith('GROUP_')) return true;
  if (held === 'ORG_OWNER' && required.startsWith('ORG_')) return true;
  for (const grantor of GRANTED_BY[required] ?? []) {
    if (grantor === '*GROUP' && held.startsWith('GROUP_')) return true;
    if (grantor === '*ORG' && held.startsWith('ORG_')) return true;
    if (grantor === held) return true;
  }
  return false;
}

/** True when any held role grants any of the required ones (an empty requirement is met by anyone). */
export function satisfies(held: Iterable<string>, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  for (const h of held) for (const r of required) if (grants(h, r)) return true;
  return false;
}

/**
 * The project roles a principal holds in a project of its organization, org roles included:
 * an Organization Owner acts as Project Owner, an Organization Stream Processing Admin as
 * Project Stream Processing Owner, an Organization Read Only as Project Read Only.
 */
export function effectiveProjectRoles(orgRoles: ReadonlySet<string>, projectRoles: ReadonlySet<string> | undefined): Set<string> {
  const roles = new Set(projectRoles ?? []);
  if (orgRoles.has('ORG_OWNER')) roles.add('GROUP_OWNER');
  if (orgRoles.has('ORG_STREAM_PROCESSING_ADMIN')) roles.add('GROUP_STREAM_PROCESSING_OWNER');
  if (orgRoles.has('ORG_READ_ONLY') || orgRoles.has('ORG_STREAM_PROCESSING_ADMIN')) roles.add('GROUP_READ_ONLY');
  return roles;
}
