// Resolves the project or organization a path names and checks the caller's roles against
// the roles the operation's `x-rolesRequirements` names.
import type { Logger } from 'pino';
import { KIND, type Organization, type Project } from '../domain/identity/model.js';
import type { OperationSpec } from '../protocol/operation-spec.js';
import type { StoreTx } from '../store/store.js';
import { ApiError } from './errors.js';
import type { Principal } from './principal.js';
import { effectiveProjectRoles, requiredRoles, satisfies } from '../model/roles.js';

export interface Scope {
  project?: Project;
  org?: Organization;
}

/** A logger, or a function giving the request's logger, so that it is made only when something is logged. */
export type LazyLogger = Logger | (() => Logger);

export async function authorize(operation: OperationSpec, params: Record<string, string>, principal: Principal, tx: StoreTx, log: LazyLogger): Promise<Scope> {
  const logOf = typeof log === 'function' ? log : () => log;
  const required = requiredRoles(operation);
  const refuse = (held: Iterable<string>, where: string): never => {
    logOf().warn({ operationId: operation.operationId, principal: principal.label, where, requiredOneOf: required, held: [...held] },
      'refused: the caller lacks a required role');
    const error = new ApiError('USER_UNAUTHORIZED');
    error.requiredRoles = required;
    throw error;
  };

  if (params['groupId'] !== undefined) {
    const groupId = params['groupId'];
    const stored = await tx.get<Project>(KIND.project, groupId);
    // Another organization's project is, to this caller, one that does not exist: answering
    // otherwise would tell an org owner which ids exist elsewhere.
    const project = stored && (stored.orgId === principal.orgId || principal.projectRoles.has(groupId)) ? stored : undefined;
    const orgRoles = project && project.orgId === principal.orgId ? principal.orgRoles : new Set<string>();
    const roles = effectiveProjectRoles(orgRoles, principal.projectRoles.get(groupId));
    if (!project) {
      // Only someone who would see every project of an organization learns that one does not exist.
      if (['ORG_OWNER', 'ORG_READ_ONLY', 'ORG_STREAM_PROCESSING_ADMIN'].some((r) => principal.orgRoles.has(r))) throw new ApiError('GROUP_NOT_FOUND', [groupId]);
      logOf().warn({ operationId: operation.operationId, principal: principal.label, groupId }, 'refused: the caller has no access to the project');
      throw new ApiError('NOT_IN_GROUP', [groupId]);
    }
    if (roles.size === 0) {
      logOf().warn({ operationId: operation.operationId, principal: principal.label, groupId }, 'refused: the caller has no access to the project');
      throw new ApiError('NOT_IN_GROUP', [groupId]);
    }
    if (!satisfies([...roles, ...orgRoles], required)) refuse(roles, `project ${groupId}`);
    return { project };
  }

  if (params['orgId'] !== undefined) {
    const orgId = params['orgId'];
    const org = await tx.get<Organization>(KIND.org, orgId);
    if (!org || orgId !== principal.orgId) {
      // Another organization answers as a missing one does, for the same reason as projects.
      if (principal.orgRoles.has('ORG_OWNER')) throw new ApiError('ORG_NOT_FOUND', [orgId]);
      logOf().warn({ operationId: operation.operationId, principal: principal.label, orgId }, 'refused: the caller is not in the organization');
      throw new ApiError('NOT_ORG_MEMBER', [orgId]);
    }
    if (!satisfies(principal.orgRoles, required)) refuse(principal.orgRoles, `organization ${orgId}`);
    return { org };
  }

  // No scope in the path (listGroups, createGroup): the caller's own organization.
  // An org owner or org reader holds a project role in every project of its organization.
  const held = [...principal.orgRoles, ...effectiveProjectRoles(principal.orgRoles, undefined),
    ...[...principal.projectRoles.values()].flatMap((r) => [...r])];
  if (!satisfies(held, required)) refuse(held, 'its organization');
  return {};
}
