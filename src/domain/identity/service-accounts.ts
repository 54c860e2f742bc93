// Service accounts: organization accounts, their secrets, their IP access lists and their
// assignment to projects. A secret is returned once, on creation; the store keeps its
// SHA-256. Deleting an account or a secret ends the tokens issued with it at once, since
// authenticate.ts checks both on every Bearer call.
import { newObjectId } from '../../crypto/ids.js';
import { hashSecret } from '../../http/auth/oauth.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import type { StoreTx } from '../../store/store.js';
import { addToAccessList, listAccessList, removeFromAccessList, serviceAccountAccessOwner } from './access-lists.js';
import { maskedSecret, newClientId, newClientSecret } from './credentials.js';
import { KIND, type Project, type ServiceAccount, type ServiceAccountSecret } from './model.js';
import { orgApiKeyRoles, projectRoles } from './roles.js';
import type { GroupServiceAccountRequest, GroupServiceAccountUpdateRequest, OrgServiceAccountRequest, OrgServiceAccountUpdateRequest } from '../../protocol/generated/types.js';

/** Atlas's default organization settings: secrets live between 8 hours and a year. */
const MIN_SECRET_HOURS = 8;
const MAX_SECRET_HOURS = 365 * 24;
const MAX_SECRETS = 2;

type AccountCreate = OrgServiceAccountRequest | GroupServiceAccountRequest;
type AccountUpdate = OrgServiceAccountUpdateRequest | GroupServiceAccountUpdateRequest;

/** The account with this client id in this organization, or 404 SERVICE_ACCOUNT_NOT_FOUND. */
export async function requireServiceAccount(tx: StoreTx, orgId: string, clientId: string): Promise<ServiceAccount> {
  const account = await tx.get<ServiceAccount>(KIND.serviceAccount, clientId);
  if (!account || account.orgId !== orgId) throw new ApiError('SERVICE_ACCOUNT_NOT_FOUND', [clientId]);
  return account;
}

/** The account, which must be assigned to the project: 404 SERVICE_ACCOUNT_NOT_IN_GROUP otherwise. */
export async function requireProjectServiceAccount(tx: StoreTx, project: Project, clientId: string): Promise<ServiceAccount> {
  const account = await requireServiceAccount(tx, project.orgId, clientId);
  if (!account.projects[project.id]) throw new ApiError('SERVICE_ACCOUNT_NOT_IN_GROUP', [clientId, project.id]);
  return account;
}

/** ServiceAccountSecret: masked, except the plain value in the response that creates it. */
export function renderSecret(secret: ServiceAccountSecret, plain?: string): Record<string, unknown> {
  return {
    createdAt: secret.createdAt,
    expiresAt: secret.expiresAt,
    id: secret.id,
    lastUsedAt: secret.lastUsedAt,
    maskedSecretValue: secret.maskedSecretValue,
    secret: plain,
  };
}

async function secretsOf(tx: StoreTx, clientId: string): Promise<ServiceAccountSecret[]> {
  return (await tx.list<ServiceAccountSecret>(KIND.serviceAccountSecret, clientId)).items;
}

/** OrgServiceAccount, or GroupServiceAccount (the roles in that project) when a project is given. */
async function renderAccount(tx: StoreTx, account: ServiceAccount, project?: Project, fresh?: { secret: ServiceAccountSecret; plain: string }) {
  const secrets = await secretsOf(tx, account.clientId);
  return {
    clientId: account.clientId,
    createdAt: account.createdAt,
    description: account.description,
    name: account.name,
    roles: project ? account.projects[project.id] ?? [] : account.roles,
    secrets: secrets.map((s) => renderSecret(s, s.id === fresh?.secret.id ? fresh.plain : undefined)),
  };
}

async function addSecret(ctx: RequestContext, clientId: string, hours: number): Promise<{ secret: ServiceAccountSecret; plain: string }> {
  if (hours < MIN_SECRET_HOURS || hours > MAX_SECRET_HOURS) throw new ApiError('VALIDATION_ERROR', ['secretExpiresAfterHours', hours]);
  const existing = await ctx.tx.list(KIND.serviceAccountSecret, clientId, { offset: 0, limit: 1 });
  if (existing.total >= MAX_SECRETS) throw new ApiError('SERVICE_ACCOUNT_MAX_SECRETS', [clientId, MAX_SECRETS]);
  const now = ctx.services.now();
  const plain = newClientSecret();
  const secret: ServiceAccountSecret = {
    id: newObjectId(now.getTime()), clientId, sha256: hashSecret(plain), maskedSecretValue: maskedSecret(plain),
    createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + hours * 3600 * 1000).toISOString(),
  };
  await ctx.tx.insert(KIND.serviceAccountSecret, { id: secret.id, parentId: clientId }, secret);
  ctx.log.info({ clientId, secretId: secret.id }, 'service account secret created');
  return { secret, plain };
}

async function removeSecret(ctx: RequestContext, clientId: string): Promise<void> {
  const secretId = ctx.params['secretId']!;
  const secret = await ctx.tx.get<ServiceAccountSecret>(KIND.serviceAccountSecret, secretId);
  if (!secret || secret.clientId !== clientId) throw new ApiError('SERVICE_ACCOUNT_SECRET_NOT_FOUND', [secretId]);
  await ctx.tx.delete(KIND.serviceAccountSecret, secretId);
  ctx.log.info({ clientId, secretId }, 'service account secret deleted');
}

/** Creates an account (organization roles and project assignments given) with its first secret. */
async function createAccount(ctx: RequestContext, orgId: string, body: AccountCreate, roles: string[], projects: Record<string, string[]>) {
  const account: ServiceAccount = {
    clientId: newClientId(), orgId, name: body.name, description: body.description, roles, projects,
    createdAt: ctx.services.now().toISOString(),
  };
  // Names need not be unique, so the account is stored without one.
  await ctx.tx.insert(KIND.serviceAccount, { id: account.clientId, parentId: orgId }, account);
  ctx.log.info({ clientId: account.clientId }, 'service account created');
  return { account, fresh: await addSecret(ctx, account.clientId, body.secretExpiresAfterHours) };
}

function applyUpdate(account: ServiceAccount, body: AccountUpdate): ServiceAccount {
  return { ...account, name: body.name ?? account.name, description: body.description ?? account.description };
}

const clientIdOf = (ctx: RequestContext) => ctx.params['clientId']!;
const orgAccount = (ctx: RequestContext) => requireServiceAccount(ctx.tx, ctx.org!.id, clientIdOf(ctx));
const projectAccount = (ctx: RequestContext) => requireProjectServiceAccount(ctx.tx, ctx.project!, clientIdOf(ctx));

export const serviceAccountHandlers: HandlerTable = {
  async listOrgServiceAccounts(ctx) {
    const { items } = await ctx.tx.list<ServiceAccount>(KIND.serviceAccount, ctx.org!.id);
    const page = pageArray(ctx, items);
    const rendered = await Promise.all(page.items.map((a) => renderAccount(ctx.tx, a)));
    return { body: pagedList(ctx, { items: rendered, total: page.total }, (a) => a) };
  },

  async createOrgServiceAccount(ctx) {
    const body = ctx.body as AccountCreate;
    const { account, fresh } = await createAccount(ctx, ctx.org!.id, body, orgApiKeyRoles(body.roles), {});
    return { body: await renderAccount(ctx.tx, account, undefined, fresh) };
  },

  async getOrgServiceAccount(ctx) {
    return { body: await renderAccount(ctx.tx, await orgAccount(ctx)) };
  },

  async updateOrgServiceAccount(ctx) {
    const body = (ctx.body ?? {}) as AccountUpdate;
    const account = await orgAccount(ctx);
    const updated = applyUpdate(account, body);
    if (body.roles !== undefined) updated.roles = orgApiKeyRoles(body.roles);
    await ctx.tx.update(KIND.serviceAccount, account.clientId, updated);
    return { body: await renderAccount(ctx.tx, updated) };
  },

  async deleteOrgServiceAccount(ctx) {
    const account = await orgAccount(ctx);
    await ctx.tx.deleteChildren(KIND.serviceAccountSecret, account.clientId);
    await ctx.tx.deleteChildren(KIND.serviceAccountAccess, account.clientId);
    await ctx.tx.delete(KIND.serviceAccount, account.clientId);
    ctx.log.info({ clientId: account.clientId }, 'service account deleted');
    return {};
  },

  async createOrgSecret(ctx) {
    const account = await orgAccount(ctx);
    const { secret, plain } = await addSecret(ctx, account.clientId, (ctx.body as { secretExpiresAfterHours: number }).secretExpiresAfterHours);
    return { body: renderSecret(secret, plain) };
  },

  async deleteOrgSecret(ctx) {
    await removeSecret(ctx, (await orgAccount(ctx)).clientId);
    return {};
  },

  async listOrgAccessList(ctx) {
    return listAccessList(ctx, serviceAccountAccessOwner((await orgAccount(ctx)).clientId));
  },

  async createOrgAccessList(ctx) {
    return addToAccessList(ctx, serviceAccountAccessOwner((await orgAccount(ctx)).clientId));
  },

  async deleteOrgAccessEntry(ctx) {
    return removeFromAccessList(ctx, serviceAccountAccessOwner((await orgAccount(ctx)).clientId));
  },

  async getServiceAccountGroups(ctx) {
    const account = await orgAccount(ctx);
    const groups = Object.keys(account.projects).map((groupId) => ({ groupId }));
    return { body: pagedList(ctx, pageArray(ctx, groups), (g) => g) };
  },

  async listGroupServiceAccounts(ctx) {
    const project = ctx.project!;
    const { items } = await ctx.tx.list<ServiceAccount>(KIND.serviceAccount, project.orgId);
    const page = pageArray(ctx, items.filter((a) => a.projects[project.id]));
    const rendered = await Promise.all(page.items.map((a) => renderAccount(ctx.tx, a, project)));
    return { body: pagedList(ctx, { items: rendered, total: page.total }, (a) => a) };
  },

  async createGroupServiceAccount(ctx) {
    const body = ctx.body as AccountCreate;
    const project = ctx.project!;
    // The account joins the project's organization as an Organization Member.
    const { account, fresh } = await createAccount(ctx, project.orgId, body, ['ORG_MEMBER'], { [project.id]: projectRoles(body.roles) });
    return { body: await renderAccount(ctx.tx, account, project, fresh) };
  },

  async getGroupServiceAccount(ctx) {
    return { body: await renderAccount(ctx.tx, await projectAccount(ctx), ctx.project!) };
  },

  async updateGroupServiceAccount(ctx) {
    const body = (ctx.body ?? {}) as AccountUpdate;
    const project = ctx.project!;
    const account = await projectAccount(ctx);
    const updated = applyUpdate(account, body);
    if (body.roles !== undefined) updated.projects = { ...account.projects, [project.id]: projectRoles(body.roles) };
    await ctx.tx.update(KIND.serviceAccount, account.clientId, updated);
    return { body: await renderAccount(ctx.tx, updated, project) };
  },

  /** Removes the account from the project; it stays in the organization with its credentials. */
  async deleteGroupServiceAccount(ctx) {
    const project = ctx.project!;
    const account = await projectAccount(ctx);
    const { [project.id]: _removed, ...projects } = account.projects;
    await ctx.tx.update(KIND.serviceAccount, account.clientId, { ...account, projects });
    return {};
  },

  async inviteGroupServiceAccount(ctx) {
    const project = ctx.project!;
    const account = await requireServiceAccount(ctx.tx, project.orgId, clientIdOf(ctx));
    const roles = projectRoles((ctx.body as { roles: string[] }).roles);
    const updated: ServiceAccount = { ...account, projects: { ...account.projects, [project.id]: roles } };
    await ctx.tx.update(KIND.serviceAccount, account.clientId, updated);
    return { body: await renderAccount(ctx.tx, updated, project) };
  },

  async listAccessList(ctx) {
    return listAccessList(ctx, serviceAccountAccessOwner((await projectAccount(ctx)).clientId));
  },

  async createAccessList(ctx) {
    return addToAccessList(ctx, serviceAccountAccessOwner((await projectAccount(ctx)).clientId));
  },

  async deleteGroupAccessEntry(ctx) {
    return removeFromAccessList(ctx, serviceAccountAccessOwner((await projectAccount(ctx)).clientId));
  },

  async createGroupSecret(ctx) {
    const account = await projectAccount(ctx);
    const { secret, plain } = await addSecret(ctx, account.clientId, (ctx.body as { secretExpiresAfterHours: number }).secretExpiresAfterHours);
    return { body: renderSecret(secret, plain) };
  },

  async deleteGroupSecret(ctx) {
    await removeSecret(ctx, (await projectAccount(ctx)).clientId);
    return {};
  },
};
