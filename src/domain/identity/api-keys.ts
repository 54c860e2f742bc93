// Programmatic API keys: organization keys, and their assignment to projects.
// The private key is returned once, on creation; the store keeps only Digest HA1 values and
// no part of the key, so later reads show it wholly masked.
import { newObjectId, newUuid } from '../../crypto/ids.js';
import { digestHa1 } from '../../http/auth/digest.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import type { StoreTx } from '../../store/store.js';
import { MASKED_PRIVATE_KEY, newPublicKey } from './credentials.js';
import { selfLinks } from './links.js';
import { KIND, type ApiKey, type RoleAssignment } from './model.js';
import { orgApiKeyRoles, projectRoles } from './roles.js';
import { requireGrantableOrgRoles, requireGrantableProjectRoles, requireRightsOver, type Rights } from './holds.js';
import type { CreateAtlasOrganizationApiKey, CreateAtlasProjectApiKey, UpdateAtlasOrganizationApiKey, UpdateAtlasProjectApiKey } from '../../protocol/generated/types.js';


/** The key with this id in this organization, or 404 API_KEY_NOT_FOUND. */
export async function requireApiKey(tx: StoreTx, orgId: string, id: string): Promise<ApiKey> {
  const key = await tx.get<ApiKey>(KIND.apiKey, id);
  if (!key || key.orgId !== orgId) throw new ApiError('API_KEY_NOT_FOUND', [id]);
  return key;
}

/** The key, which must hold a role in the project: 404 API_KEY_NOT_IN_GROUP otherwise. */
async function requireProjectApiKey(tx: StoreTx, orgId: string, groupId: string, id: string): Promise<ApiKey> {
  const key = await requireApiKey(tx, orgId, id);
  if (!isInProject(key, groupId)) throw new ApiError('API_KEY_NOT_IN_GROUP', [id, groupId]);
  return key;
}

function isInProject(key: ApiKey, groupId: string): boolean {
  return key.roles.some((r) => r.groupId === groupId);
}

/** ApiKeyUserDetails; the plain private key only in the creation response. */
export function renderApiKey(ctx: RequestContext, key: ApiKey, plainPrivateKey?: string): Record<string, unknown> {
  return {
    desc: key.desc,
    id: key.id,
    links: selfLinks(ctx, `/orgs/${key.orgId}/apiKeys/${key.id}`),
    privateKey: plainPrivateKey ?? MASKED_PRIVATE_KEY,
    publicKey: key.publicKey,
    roles: key.roles.map((r) => (r.groupId ? { groupId: r.groupId, roleName: r.roleName } : { orgId: r.orgId ?? key.orgId, roleName: r.roleName })),
  };
}

async function insertKey(ctx: RequestContext, orgId: string, desc: string, roles: RoleAssignment[]): Promise<{ key: ApiKey; privateKey: string }> {
  const privateKey = newUuid();
  let publicKey = newPublicKey();
  // Public keys are looked up across organizations: never hand out one twice.
  while (await ctx.tx.findByName(KIND.apiKey, publicKey)) publicKey = newPublicKey();
  const key: ApiKey = {
    id: newObjectId(ctx.services.now().getTime()), orgId, publicKey, desc,
    ha1: digestHa1(publicKey, privateKey),
    roles, createdAt: ctx.services.now().toISOString(),
  };
  await ctx.tx.insert(KIND.apiKey, { id: key.id, parentId: orgId, name: publicKey }, key);
  ctx.log.info({ apiKeyId: key.id, publicKey }, 'API key created');
  return { key, privateKey };
}

/** The key's rights as holds.ts reads them. */
function rightsOf(key: ApiKey): Rights {
  const projects: Record<string, string[]> = {};
  for (const r of key.roles) if (r.groupId) (projects[r.groupId] ??= []).push(r.roleName);
  return { orgId: key.orgId, orgRoles: key.roles.filter((r) => !r.groupId).map((r) => r.roleName), projects };
}

/** Replaces the key's roles in one project (an empty list removes it from the project). */
function withProjectRoles(key: ApiKey, groupId: string, roleNames: string[]): ApiKey {
  const others = key.roles.filter((r) => r.groupId !== groupId);
  return { ...key, roles: [...others, ...roleNames.map((roleName) => ({ roleName, groupId }))] };
}

export const apiKeyHandlers: HandlerTable = {
  async listOrgApiKeys(ctx) {
    const { items } = await ctx.tx.list<ApiKey>(KIND.apiKey, ctx.org!.id);
    return { body: pagedList(ctx, pageArray(ctx, items), (k) => renderApiKey(ctx, k)) };
  },

  async createOrgApiKey(ctx) {
    const body = ctx.body as CreateAtlasOrganizationApiKey;
    const orgId = ctx.org!.id;
    const roleNames = orgApiKeyRoles(body.roles);
    requireGrantableOrgRoles(ctx, orgId, roleNames);
    const roles = roleNames.map((roleName) => ({ roleName, orgId }));
    const { key, privateKey } = await insertKey(ctx, orgId, body.desc, roles);
    return { body: renderApiKey(ctx, key, privateKey) };
  },

  async getOrgApiKey(ctx) {
    return { body: renderApiKey(ctx, await requireApiKey(ctx.tx, ctx.org!.id, ctx.params['apiUserId']!)) };
  },

  async updateOrgApiKey(ctx) {
    const body = (ctx.body ?? {}) as UpdateAtlasOrganizationApiKey;
    const key = await requireApiKey(ctx.tx, ctx.org!.id, ctx.params['apiUserId']!);
    const updated: ApiKey = { ...key, desc: body.desc ?? key.desc };
    if (body.roles !== undefined) {
      const roleNames = orgApiKeyRoles(body.roles);
      requireGrantableOrgRoles(ctx, key.orgId, roleNames);
      const orgRoles = roleNames.map((roleName) => ({ roleName, orgId: key.orgId }));
      updated.roles = [...orgRoles, ...key.roles.filter((r) => r.groupId)];
    }
    await ctx.tx.update(KIND.apiKey, key.id, updated);
    return { body: renderApiKey(ctx, updated) };
  },

  async deleteOrgApiKey(ctx) {
    const key = await requireApiKey(ctx.tx, ctx.org!.id, ctx.params['apiUserId']!);
    await ctx.tx.deleteChildren(KIND.apiKeyAccess, key.id);
    await ctx.tx.delete(KIND.apiKey, key.id);
    ctx.log.info({ apiKeyId: key.id, publicKey: key.publicKey }, 'API key deleted');
    return {};
  },

  async listGroupApiKeys(ctx) {
    const groupId = ctx.project!.id;
    const { items } = await ctx.tx.list<ApiKey>(KIND.apiKey, ctx.project!.orgId);
    const inProject = items.filter((k) => isInProject(k, groupId));
    return { body: pagedList(ctx, pageArray(ctx, inProject), (k) => renderApiKey(ctx, k)) };
  },

  async createGroupApiKey(ctx) {
    const body = ctx.body as CreateAtlasProjectApiKey;
    const { id: groupId, orgId } = ctx.project!;
    const roleNames = projectRoles(body.roles);
    requireGrantableProjectRoles(ctx, orgId, groupId, roleNames);
    const roles: RoleAssignment[] = [
      { roleName: 'ORG_MEMBER', orgId },
      ...roleNames.map((roleName) => ({ roleName, groupId })),
    ];
    const { key, privateKey } = await insertKey(ctx, orgId, body.desc, roles);
    return { body: renderApiKey(ctx, key, privateKey) };
  },

  async addGroupApiKey(ctx) {
    const assignments = ctx.body as Array<{ roles?: string[] }>;
    const { id: groupId, orgId } = ctx.project!;
    const key = await requireApiKey(ctx.tx, orgId, ctx.params['apiUserId']!);
    const requested = projectRoles(assignments.flatMap((a) => a.roles ?? []));
    requireGrantableProjectRoles(ctx, orgId, groupId, requested);
    const held = key.roles.filter((r) => r.groupId === groupId).map((r) => r.roleName);
    await ctx.tx.update(KIND.apiKey, key.id, withProjectRoles(key, groupId, [...new Set([...held, ...requested])]));
    return {};
  },

  async updateApiKeyRoles(ctx) {
    const body = (ctx.body ?? {}) as UpdateAtlasProjectApiKey;
    const { id: groupId, orgId } = ctx.project!;
    const key = await requireProjectApiKey(ctx.tx, orgId, groupId, ctx.params['apiUserId']!);
    // The description is the key's own, across the organization; the roles here are this project's.
    if (body.desc !== undefined && body.desc !== key.desc) requireRightsOver(ctx, rightsOf(key), key.publicKey);
    let updated: ApiKey = { ...key, desc: body.desc ?? key.desc };
    if (body.roles !== undefined) {
      const roleNames = projectRoles(body.roles);
      requireGrantableProjectRoles(ctx, orgId, groupId, roleNames);
      updated = withProjectRoles(updated, groupId, roleNames);
    }
    await ctx.tx.update(KIND.apiKey, key.id, updated);
    return { body: renderApiKey(ctx, updated) };
  },

  async removeGroupApiKey(ctx) {
    const { id: groupId, orgId } = ctx.project!;
    const key = await requireProjectApiKey(ctx.tx, orgId, groupId, ctx.params['apiUserId']!);
    await ctx.tx.update(KIND.apiKey, key.id, withProjectRoles(key, groupId, []));
    return {};
  },
};
