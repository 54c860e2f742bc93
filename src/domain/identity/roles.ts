// Role names by scope, and the checks that keep each scope's roles in it.
import { ApiError } from '../../http/errors.js';
import { ORG_ROLES, PROJECT_ROLES } from '../../model/roles.js';

export function isOrgRole(role: string): boolean {
  return ORG_ROLES.includes(role);
}

export function isProjectRole(role: string): boolean {
  return PROJECT_ROLES.includes(role);
}

/** Organization roles for an organization API key: INVALID_ROLE_FOR_ORG_API_KEY otherwise. */
export function orgApiKeyRoles(roles: readonly string[]): string[] {
  const bad = roles.find((r) => !isOrgRole(r));
  if (bad !== undefined) throw new ApiError('INVALID_ROLE_FOR_ORG_API_KEY', [bad]);
  if (roles.length === 0) throw new ApiError('MISSING_ATTRIBUTE', ['roles']);
  return unique(roles);
}

/** Project roles for a project assignment: INVALID_ROLE_FOR_GROUP otherwise. */
export function projectRoles(roles: readonly string[]): string[] {
  const bad = roles.find((r) => !isProjectRole(r));
  if (bad !== undefined) throw new ApiError('INVALID_ROLE_FOR_GROUP', [bad]);
  if (roles.length === 0) throw new ApiError('MISSING_ATTRIBUTE', ['roles']);
  return unique(roles);
}

export function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
