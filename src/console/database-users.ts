// Database users in the web console. The browser sends the password once to the login route;
// it is checked against the stored SCRAM keys (no second password scheme) and answered with a
// short-lived opaque token, kept in page memory and sent as X-Console-Session (no cookie, so
// nothing ambient another site could use). Every action then runs the wire endpoint's own
// command (src/wire/session.ts runCommand) for that user, so the roles and scopes that decide
// what mongosh may do decide what the console may do, with the same checks and messages.
//
//   POST   /emulator/v1/console/login                            {groupId, username, password}
//   GET    /emulator/v1/console/groups/{g}/streams               workspaces the user reaches
//   GET    /emulator/v1/console/groups/{g}/streams/{t}/processors          listStreamProcessors
//   GET    /emulator/v1/console/groups/{g}/streams/{t}/processor/{p}       getStreamProcessor
//   POST   /emulator/v1/console/groups/{g}/streams/{t}/processor           createStreamProcessor
//   POST   /emulator/v1/console/groups/{g}/streams/{t}/processor/{p}:start startStreamProcessor (and :stop)
//   PATCH  /emulator/v1/console/groups/{g}/streams/{t}/processor/{p}       modifyStreamProcessor
//   DELETE /emulator/v1/console/groups/{g}/streams/{t}/processor/{p}       dropStreamProcessor
//   POST   /emulator/v1/console/groups/{g}/streams/{t}/process             processStreamProcessor (try a pipeline)
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EJSON, type Document } from 'bson';
import type { Logger } from 'pino';
import { passwordMatches } from '../crypto/scram.js';
import { findDatabaseUser } from '../domain/identity/database-users.js';
import type { DatabaseUser } from '../domain/identity/model.js';
import { STREAMS_KIND, isObject, type StoredInstance } from '../domain/streams/common.js';
import { answerTry, readTryRequest } from '../domain/streams/emulator-routes.js';
import type { Services } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { readJsonBody, sendJson } from '../http/extension-io.js';
import { userReaches } from '../wire/commands/auth.js';
import { WireError } from '../wire/errors.js';
import { requireAccess } from '../wire/privileges.js';
import { SampleCursors } from '../wire/sample-cursors.js';
import { runCommand } from '../wire/session.js';
import type { Endpoint } from '../wire/workspace.js';

export const DATABASE_USER_PREFIX = '/emulator/v1/console/';
export const SESSION_HEADER = 'x-console-session';
/** Short on purpose: the token is a bearer credential; logging in again is cheap. */
const DEFAULT_SESSION_MS = 30 * 60_000;

const HEX24 = '([a-f0-9]{24})';
const SEGMENT = '([^/]+)';
const BASE = `^/emulator/v1/console/groups/${HEX24}/streams`;
const WORKSPACES = new RegExp(`${BASE}$`);
const PROCESSORS = new RegExp(`${BASE}/${SEGMENT}/processors$`);
const CREATE = new RegExp(`${BASE}/${SEGMENT}/processor$`);
const PROCESSOR = new RegExp(`${BASE}/${SEGMENT}/processor/([^/:]+)$`);
const ACTION = new RegExp(`${BASE}/${SEGMENT}/processor/([^/:]+):(start|stop)$`);
const PROCESS = new RegExp(`${BASE}/${SEGMENT}/process$`);

interface ConsoleSession {
  groupId: string;
  username: string;
  expiresAt: number;
}

export interface DatabaseUserRequest {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  services: Services;
  log: Logger;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('RESOURCE_NOT_FOUND', [segment]);
  }
}

/** The same answer for an unknown user, a wrong password, an unknown project or an expired token. */
function refused(): ApiError {
  return new ApiError('USER_UNAUTHORIZED');
}

export function createDatabaseUserRoutes(options: { sessionMs?: number | undefined } = {}) {
  const sessionMs = options.sessionMs ?? DEFAULT_SESSION_MS;
  const sessions = new Map<string, ConsoleSession>();

  async function logIn(r: DatabaseUserRequest): Promise<void> {
    const body = await readJsonBody(r.req);
    const field = (name: string) => (isObject(body) && typeof body[name] === 'string' ? body[name] as string : undefined);
    const groupId = field('groupId');
    const username = field('username');
    const password = field('password');
    if (groupId === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['groupId']);
    if (username === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['username']);
    if (password === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['password']);
    const user = await r.services.store.read((tx) => findDatabaseUser(tx, groupId, username));
    const stored = user?.credentials['SCRAM-SHA-256'];
    if (!user || !stored || !passwordMatches('SCRAM-SHA-256', stored, username, password)) throw refused();
    const now = r.services.now().getTime();
    for (const [token, session] of sessions) if (session.expiresAt <= now) sessions.delete(token);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + sessionMs;
    sessions.set(token, { groupId, username, expiresAt });
    sendJson(r.res, 200, { token, groupId, username, roles: user.roles, expiresAt: new Date(expiresAt).toISOString() });
  }

  /** The session's user as stored now (deleted or expired users are refused), in the path's project. */
  async function currentUser(r: DatabaseUserRequest, groupId: string): Promise<DatabaseUser> {
    const token = r.req.headers[SESSION_HEADER];
    const session = typeof token === 'string' ? sessions.get(token) : undefined;
    if (!session || session.expiresAt <= r.services.now().getTime()) {
      if (typeof token === 'string') sessions.delete(token);
      throw refused();
    }
    if (session.groupId !== groupId) throw new ApiError('NOT_IN_GROUP');
    const user = await r.services.store.read((tx) => findDatabaseUser(tx, groupId, session.username));
    if (!user) throw refused();
    return user;
  }

  async function workspace(r: DatabaseUserRequest, user: DatabaseUser, groupId: string, tenantName: string): Promise<StoredInstance> {
    const instance = await r.services.store.read((tx) => tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, tenantName));
    // Out of the user's scopes reads as absent, as the wire endpoint refuses to authenticate there.
    if (!instance || !userReaches(user, instance.name)) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, tenantName]);
    return instance;
  }

  /** Runs a wire command as the user on the workspace; WireErrors become Atlas-shaped errors. */
  async function command(r: DatabaseUserRequest, user: DatabaseUser, instance: StoredInstance, body: Document): Promise<Document> {
    const endpoint: Endpoint = {
      instanceId: instance._id, groupId: instance.groupId, instanceName: instance.name, services: r.services, log: r.log,
      cursors: new SampleCursors(r.services.runner),
    };
    const session = { connectionId: 0, remoteAddress: r.req.socket.remoteAddress ?? '', conversations: new Map(), user: { username: user.username, roles: user.roles } };
    try {
      return await runCommand({ name: Object.keys(body)[0]!, body, db: 'admin', endpoint, session });
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      if (error.codeName === 'Unauthorized') throw Object.assign(refused(), { detail: error.message });
      throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [String(Object.values(body)[0]), error.message]);
    }
  }

  async function handle(r: DatabaseUserRequest): Promise<void> {
    const { path } = r;
    const method = r.req.method ?? 'GET';
    const only = (allowed: string) => { if (method !== allowed) throw new ApiError('METHOD_NOT_ALLOWED', [method, path]); };
    if (path === `${DATABASE_USER_PREFIX}login`) {
      only('POST');
      return logIn(r);
    }
    let m: RegExpExecArray | null;
    if ((m = WORKSPACES.exec(path))) {
      only('GET');
      const user = await currentUser(r, m[1]!);
      const { items } = await r.services.store.read((tx) => tx.list<StoredInstance>(STREAMS_KIND.instance, m![1]!));
      return sendJson(r.res, 200, { results: items.filter((i) => userReaches(user, i.name)).map((i) => ({ name: i.name })) });
    }
    const scoped = PROCESSORS.exec(path) ?? ACTION.exec(path) ?? PROCESSOR.exec(path) ?? CREATE.exec(path) ?? PROCESS.exec(path);
    if (!scoped) throw new ApiError('RESOURCE_NOT_FOUND', [path]);
    const groupId = scoped[1]!;
    const user = await currentUser(r, groupId);
    const instance = await workspace(r, user, groupId, decode(scoped[2]!));
    if ((m = PROCESSORS.exec(path))) {
      only('GET');
      const listed = await command(r, user, instance, { listStreamProcessors: 1 });
      return sendJson(r.res, 200, { results: EJSON.serialize(listed['streamProcessors'], { relaxed: true }) });
    }
    if ((m = ACTION.exec(path))) {
      only('POST');
      await command(r, user, instance, { [`${m[4]}StreamProcessor`]: decode(m[3]!) });
      return sendJson(r.res, 200, {});
    }
    if ((m = PROCESSOR.exec(path))) {
      if (method === 'PATCH') {
        const body = await readJsonBody(r.req);
        if (!isObject(body)) throw new ApiError('MISSING_ATTRIBUTE', ['pipeline']);
        await command(r, user, instance, { modifyStreamProcessor: decode(m[3]!), ...body });
        return sendJson(r.res, 200, {});
      }
      if (method === 'DELETE') {
        await command(r, user, instance, { dropStreamProcessor: decode(m[3]!) });
        return sendJson(r.res, 200, {});
      }
      only('GET');
      // Relaxed Extended JSON: the wire's Longs and Dates read as numbers and {$date}.
      return sendJson(r.res, 200, EJSON.serialize(await command(r, user, instance, { getStreamProcessor: decode(m[3]!) }), { relaxed: true }));
    }
    if (CREATE.exec(path)) {
      only('POST');
      const body = await readJsonBody(r.req);
      if (!isObject(body) || typeof body['name'] !== 'string') throw new ApiError('MISSING_ATTRIBUTE', ['name']);
      await command(r, user, instance, { createStreamProcessor: body['name'], pipeline: body['pipeline'], ...(body['options'] ? { options: body['options'] } : {}) });
      return sendJson(r.res, 200, { name: body['name'] });
    }
    only('POST');
    const tried = await readTryRequest(r.req);
    try {
      requireAccess(user.roles, 'write', 'processStreamProcessor', instance.name);
    } catch (error) {
      throw Object.assign(refused(), { detail: (error as Error).message });
    }
    return answerTry(r, instance, tried);
  }

  return { prefix: DATABASE_USER_PREFIX, handle };
}
