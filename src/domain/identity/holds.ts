// "Does the caller already hold everything this identity holds?" Whoever can mint a secret
// for an account, or change who may use it (its access list), can act as that account; and
// whoever assigns a role hands it over. Both are only allowed to a caller that already holds
// the same rights, so that no route, project-level or organization-level, is a ladder.
import type { RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import type { Principal } from '../../http/principal.js';
import { effectiveProjectRoles, satisfies } from '../../model/roles.js';

/** True when the caller holds (or a role it holds grants) `role` in the organization. */
export function holdsOrgRole(principal: Principal, orgId: string, role: string): boolean {
  return principal.orgId === orgId && satisfies(principal.orgRoles, [role]);
}

/** True when the caller holds (or a role it holds grants) every one of `roles` in the project. */
export function holdsProjectRoles(principal: Principal, orgId: string, groupId: string, roles: readonly string[]): boolean {
  if (principal.orgId !== orgId) return false;
  const held = [...effectiveProjectRoles(principal.orgRoles, principal.projectRoles.get(groupId))];
  return roles.every((role) => satisfies(held, [role]));
}

/** An identity's rights: organization roles, and project roles by project id. */
export interface Rights {
  orgId: string;
  orgRoles: readonly string[];
  projects: Readonly<Record<string, readonly string[]>>;
}

/** True when the caller holds every role the identity holds, in the organization and in each of its projects. */
export function holdsAllOf(principal: Principal, rights: Rights): boolean {
  return rights.orgRoles.every((role) => holdsOrgRole(principal, rights.orgId, role))
    && Object.entries(rights.projects).every(([groupId, roles]) => holdsProjectRoles(principal, rights.orgId, groupId, roles));
}

/** 401 USER_UNAUTHORIZED (Atlas's answer for a missing role) unless the caller holds all of `rights`. */
export function requireRightsOver(ctx: RequestContext, rights: Rights, identity: string): void {
  if (holdsAllOf(ctx.principal, rights)) return;
  ctx.log.warn({ operationId: ctx.operation.operationId, principal: ctx.principal.label, identity },
    'refused: the identity holds rights the caller lacks');
  throw new ApiError('USER_UNAUTHORIZED');
}

/** 401 USER_UNAUTHORIZED unless the caller holds every role it is assigning in the project. */
export function requireGrantableProjectRoles(ctx: RequestContext, orgId: string, groupId: string, roles: readonly string[]): void {
  if (holdsProjectRoles(ctx.principal, orgId, groupId, roles)) return;
  ctx.log.warn({ operationId: ctx.operation.operationId, principal: ctx.principal.label, groupId, roles }, 'refused: assigning roles the caller lacks');
  throw new ApiError('USER_UNAUTHORIZED');
}

/** 401 USER_UNAUTHORIZED unless the caller holds every organization role it is assigning. */
export function requireGrantableOrgRoles(ctx: RequestContext, orgId: string, roles: readonly string[]): void {
  if (roles.every((role) => holdsOrgRole(ctx.principal, orgId, role))) return;
  ctx.log.warn({ operationId: ctx.operation.operationId, principal: ctx.principal.label, orgId, roles }, 'refused: assigning roles the caller lacks');
  throw new ApiError('USER_UNAUTHORIZED');
}
