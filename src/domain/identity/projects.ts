// Projects (Atlas "groups"): create, read, rename and tag, delete.
import { newObjectId } from '../../crypto/ids.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import type { Principal } from '../../http/principal.js';
import { effectiveProjectRoles } from '../../model/roles.js';
import { matchesPattern } from '../../protocol/validate.js';
import { DuplicateKeyError, type StoreTx } from '../../store/store.js';
import { selfLinks } from './links.js';
import { KIND, type ApiKey, type Organization, type Project, type ServiceAccount } from './model.js';
import type { Group, GroupUpdate } from '../../protocol/generated/types.js';

/** The Group schema's name rule (GroupUpdate repeats no pattern, so updates apply it here). */
const PROJECT_NAME = "^[\\p{L}\\p{N}\\-_.(),:&@+']{1,64}$";
/** Stream instances are stored by the Streams module under this kind, parented by the project. */
const STREAM_INSTANCE_KIND = 'streamInstance';


export function renderProject(ctx: RequestContext, project: Project): Record<string, unknown> {
  return {
    clusterCount: 0,
    created: project.created,
    id: project.id,
    links: selfLinks(ctx, `/groups/${project.id}`),
    name: project.name,
    orgId: project.orgId,
    tags: project.tags.map((t) => ({ key: t.key, value: t.value })),
  };
}

/** True when the caller holds any role in the project (an org owner or org reader holds one everywhere). */
export function canSeeProject(principal: Principal, project: Project): boolean {
  if (project.orgId !== principal.orgId) return false;
  return effectiveProjectRoles(principal.orgRoles, principal.projectRoles.get(project.id)).size > 0;
}

/** The projects of an organization the caller may see, in creation order. */
export async function visibleProjects(tx: StoreTx, principal: Principal, orgId: string): Promise<Project[]> {
  const { items } = await tx.list<Project>(KIND.project, orgId);
  return items.filter((p) => canSeeProject(principal, p));
}

function checkName(name: string): void {
  if (!matchesPattern(PROJECT_NAME, name)) throw new ApiError('VALIDATION_ERROR', ['name', name]);
}

/** Gives the creator of a project (when it is not already an org owner) the Project Owner role in it. */
async function grantCreator(tx: StoreTx, principal: Principal, groupId: string): Promise<void> {
  if (principal.orgRoles.has('ORG_OWNER')) return;
  if (principal.type === 'apiKey') {
    const key = await tx.get<ApiKey>(KIND.apiKey, principal.id);
    if (key) await tx.update(KIND.apiKey, key.id, { ...key, roles: [...key.roles, { roleName: 'GROUP_OWNER', groupId }] });
  } else {
    const account = await tx.get<ServiceAccount>(KIND.serviceAccount, principal.id);
    if (account) await tx.update(KIND.serviceAccount, account.clientId, { ...account, projects: { ...account.projects, [groupId]: ['GROUP_OWNER'] } });
  }
}

/** Removes every API key role and service account assignment in a project that is going away. */
async function unassignAll(tx: StoreTx, project: Project): Promise<void> {
  const { items: keys } = await tx.list<ApiKey>(KIND.apiKey, project.orgId);
  for (const key of keys) {
    const roles = key.roles.filter((r) => r.groupId !== project.id);
    if (roles.length !== key.roles.length) await tx.update(KIND.apiKey, key.id, { ...key, roles });
  }
  const { items: accounts } = await tx.list<ServiceAccount>(KIND.serviceAccount, project.orgId);
  for (const account of accounts) {
    if (!(project.id in account.projects)) continue;
    const { [project.id]: _removed, ...projects } = account.projects;
    await tx.update(KIND.serviceAccount, account.clientId, { ...account, projects });
  }
}

export const projectHandlers: HandlerTable = {
  async listGroups(ctx) {
    const projects = await visibleProjects(ctx.tx, ctx.principal, ctx.principal.orgId);
    return { body: pagedList(ctx, pageArray(ctx, projects), (p) => renderProject(ctx, p)) };
  },

  async createGroup(ctx) {
    const body = ctx.body as Group;
    if (body.orgId !== ctx.principal.orgId) {
      const org = await ctx.tx.get<Organization>(KIND.org, body.orgId);
      if (!org && ctx.principal.orgRoles.has('ORG_OWNER')) throw new ApiError('ORG_NOT_FOUND', [body.orgId]);
      throw new ApiError('NOT_ORG_MEMBER', [body.orgId]);
    }
    if (body.regionUsageRestrictions !== undefined) throw new ApiError('INVALID_ATTRIBUTE', ['regionUsageRestrictions']);
    checkName(body.name);
    const project: Project = {
      id: newObjectId(ctx.services.now().getTime()),
      name: body.name,
      orgId: body.orgId,
      created: ctx.services.now().toISOString(),
      withDefaultAlertsSettings: body.withDefaultAlertsSettings ?? true,
      tags: body.tags ?? [],
    };
    try {
      await ctx.tx.insert(KIND.project, { id: project.id, parentId: project.orgId, name: project.name }, project);
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw new ApiError('GROUP_ALREADY_EXISTS', [body.name]);
      throw error;
    }
    await grantCreator(ctx.tx, ctx.principal, project.id);
    return { body: renderProject(ctx, project) };
  },

  async getGroup(ctx) {
    return { body: renderProject(ctx, ctx.project!) };
  },

  async getGroupByName(ctx) {
    const name = ctx.params['groupName']!;
    const project = await ctx.tx.getByName<Project>(KIND.project, ctx.principal.orgId, name);
    // A project the caller cannot see is answered as one that does not exist.
    if (!project || !canSeeProject(ctx.principal, project)) throw new ApiError('GROUP_NAME_NOT_FOUND', [name]);
    return { body: renderProject(ctx, project) };
  },

  async updateGroup(ctx) {
    const body = (ctx.body ?? {}) as GroupUpdate;
    const current = ctx.project!;
    const updated: Project = { ...current };
    if (body.name !== undefined) {
      checkName(body.name);
      updated.name = body.name;
    }
    if (body.tags !== undefined) updated.tags = body.tags.map((t) => ({ key: t.key, value: t.value }));
    try {
      await ctx.tx.update(KIND.project, current.id, updated, updated.name);
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw new ApiError('GROUP_ALREADY_EXISTS', [updated.name]);
      throw error;
    }
    return { body: renderProject(ctx, updated) };
  },

  async deleteGroup(ctx) {
    const project = ctx.project!;
    const instances = await ctx.tx.list(STREAM_INSTANCE_KIND, project.id, { offset: 0, limit: 1 });
    if (instances.total > 0) throw new ApiError('CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_STREAM_INSTANCES', [project.id]);
    await unassignAll(ctx.tx, project);
    await ctx.tx.delete(KIND.project, project.id);
    ctx.log.info({ groupId: project.id }, 'project deleted');
    return {};
  },
};

/** GET /orgs/{orgId}/groups: the organization's projects the caller may see, optionally by name prefix. */
export async function listOrganizationProjects(ctx: RequestContext) {
  // Atlas: a case-insensitive search for projects whose name starts with the given one.
  const prefix = typeof ctx.query['name'] === 'string' ? ctx.query['name'].toLowerCase() : undefined;
  const projects = (await visibleProjects(ctx.tx, ctx.principal, ctx.org!.id))
    .filter((p) => prefix === undefined || p.name.toLowerCase().startsWith(prefix));
  return { body: pagedList(ctx, pageArray(ctx, projects), (p) => renderProject(ctx, p)) };
}
