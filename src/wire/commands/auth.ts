// saslStart / saslContinue with SCRAM-SHA-1 and SCRAM-SHA-256 against the project's database
// users (authentication database admin), and the speculative first step a hello carries.
import { Binary, type Document } from 'bson';
import { findDatabaseUser } from '../../domain/identity/database-users.js';
import { SCRAM_MECHANISMS, type ScramMechanism } from '../../crypto/scram.js';
import { MESSAGES, WireError } from '../errors.js';
import { ScramConversation } from '../scram-conversation.js';
import { loadInstance, type Endpoint } from '../workspace.js';
import type { CommandContext, SessionState } from './types.js';
import type { DatabaseUser } from '../../domain/identity/model.js';

let nextConversationId = 1;

function bytesOf(payload: unknown): Buffer {
  if (payload instanceof Binary) return Buffer.from(payload.buffer);
  if (typeof payload === 'string') return Buffer.from(payload, 'base64');
  if (Buffer.isBuffer(payload) || payload instanceof Uint8Array) return Buffer.from(payload);
  throw new WireError('BadValue', 'payload must be binary data');
}

/** The user, when it exists and its scopes (if any) include this workspace. */
async function lookupUser(endpoint: Endpoint, username: string): Promise<DatabaseUser | undefined> {
  return endpoint.services.store.read(async (tx) => {
    const instance = await loadInstance(tx, endpoint);
    const user = await findDatabaseUser(tx, endpoint.groupId, username);
    if (!user) return undefined;
    return userReaches(user, instance.name) ? user : undefined;
  });
}

/** Whether the user's scopes (none: every workspace of the project) include this workspace. */
export function userReaches(user: DatabaseUser, instanceName: string): boolean {
  return user.scopes.length === 0 || user.scopes.some((s) => s.type === 'STREAM' && s.name === instanceName);
}

/** The first step: mechanism and client-first in, conversationId and server-first out. */
export async function startSasl(endpoint: Endpoint, session: SessionState, request: Document, db: string): Promise<Document> {
  const mechanism = request['mechanism'];
  if (db !== 'admin' && db !== '') throw new WireError('AuthenticationFailed', MESSAGES.authenticationFailed());
  if (typeof mechanism !== 'string' || !SCRAM_MECHANISMS.includes(mechanism as ScramMechanism)) {
    throw new WireError('MechanismUnavailable', `Received authentication for mechanism ${String(mechanism)} which is not enabled`);
  }
  const conversation = new ScramConversation<DatabaseUser>(mechanism as ScramMechanism);
  const serverFirst = await conversation.start(bytesOf(request['payload']), (username) => lookupUser(endpoint, username));
  const conversationId = nextConversationId++;
  session.conversations.set(conversationId, conversation);
  return { conversationId, done: false, payload: new Binary(serverFirst), ok: 1 };
}

export async function saslStart(ctx: CommandContext): Promise<Document> {
  return startSasl(ctx.endpoint, ctx.session, ctx.body, ctx.db);
}

export async function saslContinue(ctx: CommandContext): Promise<Document> {
  const { session, endpoint } = ctx;
  const conversationId = Number(ctx.body['conversationId']);
  const conversation = session.conversations.get(conversationId);
  const empty = bytesOf(ctx.body['payload'] ?? new Binary(Buffer.alloc(0))).length === 0;
  if (!conversation && empty && session.user) return { conversationId, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
  if (!conversation) throw new WireError('AuthenticationFailed', MESSAGES.authenticationFailed());
  const payload = bytesOf(ctx.body['payload'] ?? new Binary(Buffer.alloc(0)));
  try {
    const { serverFinal, user } = conversation.finish(payload);
    session.user = { username: user.username, roles: user.roles };
    endpoint.log.info({ user: user.username, mechanism: conversation.mechanism, connectionId: session.connectionId }, 'database user authenticated');
    // Done at once (skipEmptyExchange, which every current driver asks for); a client that
    // still sends the empty last step gets the branch above.
    session.conversations.delete(conversationId);
    return { conversationId, done: true, payload: new Binary(serverFinal), ok: 1 };
  } catch (error) {
    session.conversations.delete(conversationId);
    endpoint.log.warn({ user: conversation.username, mechanism: conversation.mechanism, connectionId: session.connectionId }, 'database user authentication failed');
    throw error;
  }
}
