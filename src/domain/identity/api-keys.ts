// Programmatic API keys: organization keys, and their assignment to projects.
// The private key is returned once, on creation; the store keeps only Digest HA1 values
// and the last 12 characters, which later reads show masked.
import { randomUUID } from 'node:crypto';
import { newObjectId } from '../../crypto/ids.js';
import { digestHa1 } from '../../http/auth/digest.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import type { StoreTx } from '../../store/store.js';
import { maskedPrivateKey, newPublicKey } from './credentials.js';
import { selfLinks } from './links.js';
import { KIND, type ApiKey, type RoleAssignment } from './model.js';
import { orgApiKeyRoles, projectRoles } from './roles.js';
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
    privateKey: plainPrivateKey ?? maskedPrivateKey(key.privateKeyTail),
    publicKey: key.publicKey,
    roles: key.roles.map((r) => (r.groupId ? { groupId: r.groupId, roleName: r.roleName } : { orgId: r.orgId ?? key.orgId, roleName: r.roleName })),
  };
}

async function insertKey(ctx: RequestContext, orgId: string, desc: string, roles: RoleAssignment[]): Promise<{ key: ApiKey; privateKey: string }> {
  const privateKey = randomUUID();
  let publicKey = newPublicKey();
  // Public keys are looked up across organizations: never hand out one twice.
  while (await ctx.tx.findByName(KIND.apiKey, publicKey)) publicKey = newPublicKey();
  const key: ApiKey = {
    id: newObjectId(ctx.services.now().getTime()), orgId, publicKey, desc,
    ha1: digestHa1(publicKey, privateKey), privateKeyTail: privateKey.slice(-12),
    roles, createdAt: ctx.services.now().toISOString(),
  };
  await ctx.tx.insert(KIND.apiKey, { id: key.id, parentId: orgId, name: publicKey }, key);
  ctx.log.info({ apiKeyId: key.id, publicKey }, 'API key created');
  return { key, privateKey };
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
    const roles = orgApiKeyRoles(body.roles).map((roleName) => ({ roleName, orgId }));
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
      const orgRoles = orgApiKeyRoles(body.roles).map((roleName) => ({ roleName, orgId: key.orgId }));
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
    const roles: RoleAssignment[] = [
      { roleName: 'ORG_MEMBER', orgId },
      ...projectRoles(body.roles).map((roleName) => ({ roleName, groupId })),
    ];
    const { key, privateKey } = await insertKey(ctx, orgId, body.desc, roles);
    return { body: renderApiKey(ctx, key, privateKey) };
  },

  async addGroupApiKey(ctx) {
    const assignments = ctx.body as Array<{ roles?: string[] }>;
    const { id: groupId, orgId } = ctx.project!;
    const key = await requireApiKey(ctx.tx, orgId, ctx.params['apiUserId']!);
    const requested = projectRoles(assignments.flatMap((a) => a.roles ?? []));
    const held = key.roles.filter((r) => r.groupId === groupId).map((r) => r.roleName);
    await ctx.tx.update(KIND.apiKey, key.id, withProjectRoles(key, groupId, [...new Set([...held, ...requested])]));
    return {};
  },

  async updateApiKeyRoles(ctx) {
    const body = (ctx.body ?? {}) as UpdateAtlasProjectApiKey;
    const { id: groupId, orgId } = ctx.project!;
    const key = await requireProjectApiKey(ctx.tx, orgId, groupId, ctx.params['apiUserId']!);
    let updated: ApiKey = { ...key, desc: body.desc ?? key.desc };
    if (body.roles !== undefined) updated = withProjectRoles(updated, groupId, projectRoles(body.roles));
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
