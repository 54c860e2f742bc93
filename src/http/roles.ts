// Which held roles satisfy which required role (BEHAVIOUR.md §4).

const PROJECT_DATA_ACCESS = ['GROUP_DATA_ACCESS_ADMIN', 'GROUP_DATA_ACCESS_READ_WRITE', 'GROUP_DATA_ACCESS_READ_ONLY'];

/** required role -> held roles that grant it (besides itself). */
const GRANTED_BY: Record<string, string[]> = {
  GROUP_READ_ONLY: ['*GROUP'],
  GROUP_DATA_ACCESS_READ_ONLY: ['GROUP_OWNER', 'GROUP_DATA_ACCESS_ADMIN', 'GROUP_DATA_ACCESS_READ_WRITE'],
  GROUP_DATA_ACCESS_READ_WRITE: ['GROUP_OWNER', 'GROUP_DATA_ACCESS_ADMIN'],
  ORG_MEMBER: ['*ORG'],
  ORG_READ_ONLY: ['ORG_OWNER'],
  ORG_GROUP_CREATOR: ['ORG_OWNER'],
};

export const PROJECT_ROLES = ['GROUP_OWNER', 'GROUP_READ_ONLY', ...PROJECT_DATA_ACCESS, 'GROUP_CLUSTER_MANAGER',
  'GROUP_SEARCH_INDEX_EDITOR', 'GROUP_STREAM_PROCESSING_OWNER', 'GROUP_BACKUP_MANAGER', 'GROUP_OBSERVABILITY_VIEWER',
  'GROUP_DATABASE_ACCESS_ADMIN'];
export const ORG_ROLES = ['ORG_OWNER', 'ORG_GROUP_CREATOR', 'ORG_BILLING_ADMIN', 'ORG_BILLING_READ_ONLY', 'ORG_READ_ONLY', 'ORG_MEMBER'];

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

/** The project roles a principal holds in a project, org roles included (ORG_OWNER acts as GROUP_OWNER). */
export function effectiveProjectRoles(orgRoles: Set<string>, projectRoles: Set<string> | undefined): Set<string> {
  const roles = new Set(projectRoles ?? []);
  if (orgRoles.has('ORG_OWNER')) roles.add('GROUP_OWNER');
  else if (orgRoles.has('ORG_READ_ONLY')) roles.add('GROUP_READ_ONLY');
  return roles;
}
