// Database users: the project's MongoDB users, who log in to the stream workspaces' wire
// endpoints with SCRAM. Only password (SCRAM) users are supported; the password is write-only
// and kept only as SCRAM credentials (salted, iterated). The roles decide what a user may do
// on a workspace (see DATABASE_ROLES); scopes of type STREAM limit which workspaces.
import { newObjectId } from '../../crypto/ids.js';
import { deriveCredentials } from '../../crypto/scram.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pagedList, pageOf } from '../../http/pagination.js';
import { DuplicateKeyError, type StoreTx } from '../../store/store.js';
import { selfLinks } from './links.js';
import { KIND, type DatabaseUser, type DatabaseUserRole } from './model.js';

/** Built-in roles a database user may hold; the *AnyDatabase ones and atlasAdmin only on admin. */
export const DATABASE_ROLES = new Set(['atlasAdmin', 'backup', 'clusterMonitor', 'dbAdmin', 'dbAdminAnyDatabase', 'enableSharding',
  'read', 'readAnyDatabase', 'readWrite', 'readWriteAnyDatabase']);
const ADMIN_ONLY_ROLES = new Set(['atlasAdmin', 'backup', 'clusterMonitor', 'dbAdminAnyDatabase', 'enableSharding', 'readAnyDatabase',
  'readWriteAnyDatabase']);
/** Authentication kinds other than SCRAM: their fields must be NONE. */
const OTHER_AUTH_FIELDS = ['awsIAMType', 'ldapAuthType', 'oidcAuthType', 'x509Type'] as const;
const MAX_USERS_PER_PROJECT = 100;

interface UserBody {
  username?: string;
  databaseName?: string;
  password?: string;
  roles?: DatabaseUserRole[];
  scopes?: Array<{ name: string; type: string }>;
  labels?: Array<{ key: string; value: string }>;
  description?: string;
  deleteAfterDate?: string;
  groupId?: string;
  [field: string]: unknown;
}

function invalid(field: string, value: unknown, description: string): ApiError {
  return new ApiError('VALIDATION_ERROR', [field, typeof value === 'string' ? value : JSON.stringify(value)], [{ field, description }]);
}

export function checkRoles(roles: DatabaseUserRole[]): DatabaseUserRole[] {
  if (roles.length === 0) throw new ApiError('MISSING_ATTRIBUTE', ['roles']);
  return roles.map((role, i) => {
    if (!DATABASE_ROLES.has(role.roleName)) {
      throw new ApiError('INVALID_ENUM_VALUE', [role.roleName], [{ field: `roles[${i}].roleName`,
        description: `Built-in roles are ${[...DATABASE_ROLES].join(', ')}; custom roles are not supported by the emulator.` }]);
    }
    if (ADMIN_ONLY_ROLES.has(role.roleName) && role.databaseName !== 'admin') {
      throw invalid(`roles[${i}].databaseName`, role.databaseName, `${role.roleName} applies to the admin database only.`);
    }
    return { roleName: role.roleName, databaseName: role.databaseName, ...(role.collectionName ? { collectionName: role.collectionName } : {}) };
  });
}

function checkAuthKind(body: UserBody): void {
  for (const field of OTHER_AUTH_FIELDS) {
    if (body[field] !== undefined && body[field] !== 'NONE') {
      throw invalid(field, body[field], 'The emulator supports password (SCRAM) database users only.');
    }
  }
  if (body.databaseName !== undefined && body.databaseName !== 'admin') {
    throw invalid('databaseName', body.databaseName, 'Password (SCRAM) users authenticate against admin.');
  }
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < 8) throw invalid('password', '********', 'Passwords are at least 8 characters.');
  return password;
}

/** CloudDatabaseUser: never the password, never the credentials. */
export function renderDatabaseUser(ctx: RequestContext, user: DatabaseUser): Record<string, unknown> {
  const out: Record<string, unknown> = {
    awsIAMType: 'NONE',
    databaseName: user.databaseName,
    // groupId is write-only in CloudDatabaseUser: the path names the project.
    labels: user.labels,
    ldapAuthType: 'NONE',
    links: selfLinks(ctx, `/groups/${user.groupId}/databaseUsers/${user.databaseName}/${encodeURIComponent(user.username)}`),
    oidcAuthType: 'NONE',
    roles: user.roles,
    scopes: user.scopes,
    username: user.username,
    x509Type: 'NONE',
  };
  if (user.description !== undefined) out['description'] = user.description;
  if (user.deleteAfterDate !== undefined) out['deleteAfterDate'] = user.deleteAfterDate;
  return out;
}

/** The user a connection names (auth database admin), for the wire endpoint's SCRAM. */
export async function findDatabaseUser(tx: StoreTx, groupId: string, username: string): Promise<DatabaseUser | undefined> {
  const user = await tx.getByName<DatabaseUser>(KIND.databaseUser, groupId, username);
  if (user?.deleteAfterDate && Date.parse(user.deleteAfterDate) <= Date.now()) return undefined;
  return user;
}

async function requireUser(ctx: RequestContext): Promise<DatabaseUser> {
  const username = ctx.params['username']!;
  const user = ctx.params['databaseName'] === 'admin' ? await ctx.tx.getByName<DatabaseUser>(KIND.databaseUser, ctx.project!.id, username) : undefined;
  if (!user) throw new ApiError('DATABASE_USER_NOT_FOUND', [username, ctx.params['databaseName']]);
  return user;
}

/** Inserts a new user (also used by the bootstrap); DATABASE_USER_ALREADY_EXISTS when the name is taken. */
export async function insertDatabaseUser(tx: StoreTx, user: Omit<DatabaseUser, 'credentials' | 'id'>, password: string, now: Date): Promise<DatabaseUser> {
  const stored: DatabaseUser = { ...user, id: newObjectId(now.getTime()), credentials: deriveCredentials(user.username, password) };
  try {
    await tx.insert(KIND.databaseUser, { id: stored.id, parentId: user.groupId, name: user.username }, stored);
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new ApiError('DATABASE_USER_ALREADY_EXISTS', [user.username]);
    throw error;
  }
  return stored;
}

export const databaseUserHandlers: HandlerTable = {
  async listDatabaseUsers(ctx) {
    const page = await ctx.tx.list<DatabaseUser>(KIND.databaseUser, ctx.project!.id, pageOf(ctx));
    return { body: pagedList(ctx, page, (u) => renderDatabaseUser(ctx, u)) };
  },

  async createDatabaseUser(ctx) {
    const body = (ctx.body ?? {}) as UserBody;
    const groupId = ctx.project!.id;
    if (body.groupId !== undefined && body.groupId !== groupId) throw invalid('groupId', body.groupId, 'groupId must name the project in the path.');
    checkAuthKind(body);
    const username = body.username ?? '';
    if (!/^[\x21-\x7e]{1,1024}$/.test(username)) throw invalid('username', username, 'Usernames are 1 to 1024 printable ASCII characters.');
    const password = checkPassword(body.password);
    const roles = checkRoles(body.roles ?? []);
    const { total } = await ctx.tx.list(KIND.databaseUser, groupId, { offset: 0, limit: 1 });
    if (total >= MAX_USERS_PER_PROJECT) throw new ApiError('DATABASE_USER_LIMIT_EXCEEDED', [MAX_USERS_PER_PROJECT]);
    const user = await insertDatabaseUser(ctx.tx, {
      groupId, username, databaseName: 'admin', roles, scopes: body.scopes ?? [], labels: body.labels ?? [],
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.deleteAfterDate !== undefined ? { deleteAfterDate: body.deleteAfterDate } : {}),
      createdAt: ctx.services.now().toISOString(),
    }, password, ctx.services.now());
    ctx.log.info({ groupId, username }, 'database user created');
    return { status: 201, body: renderDatabaseUser(ctx, user) };
  },

  async getDatabaseUser(ctx) {
    return { body: renderDatabaseUser(ctx, await requireUser(ctx)) };
  },

  async updateDatabaseUser(ctx) {
    const body = (ctx.body ?? {}) as UserBody;
    const user = await requireUser(ctx);
    checkAuthKind(body);
    if (body.username !== undefined && body.username !== user.username) {
      throw new ApiError('ATTRIBUTE_READ_ONLY', ['username']);
    }
    const updated: DatabaseUser = {
      ...user,
      roles: body.roles !== undefined ? checkRoles(body.roles) : user.roles,
      scopes: body.scopes ?? user.scopes,
      labels: body.labels ?? user.labels,
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.deleteAfterDate !== undefined ? { deleteAfterDate: body.deleteAfterDate } : {}),
    };
    if (body.password !== undefined) updated.credentials = deriveCredentials(user.username, checkPassword(body.password));
    await ctx.tx.update(KIND.databaseUser, user.id, updated);
    return { body: renderDatabaseUser(ctx, updated) };
  },

  async deleteDatabaseUser(ctx) {
    const user = await requireUser(ctx);
    await ctx.tx.delete(KIND.databaseUser, user.id);
    ctx.log.info({ groupId: user.groupId, username: user.username }, 'database user deleted');
    return { status: 204 };
  },
};
