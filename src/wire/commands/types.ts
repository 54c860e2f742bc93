// What every command handler receives, and how the command table describes a command.
import type { Document } from 'bson';
import type { DatabaseUser, DatabaseUserRole } from '../../domain/identity/model.js';
import type { Access } from '../privileges.js';
import type { ScramConversation } from '../scram-conversation.js';
import type { Endpoint } from '../workspace.js';

export interface AuthenticatedUser {
  username: string;
  roles: DatabaseUserRole[];
}

/** One connection's state. */
export interface SessionState {
  connectionId: number;
  remoteAddress: string;
  user?: AuthenticatedUser;
  /** SASL conversations in progress, by conversationId. */
  conversations: Map<number, ScramConversation<DatabaseUser>>;
}

export interface CommandContext {
  name: string;
  body: Document;
  db: string;
  endpoint: Endpoint;
  session: SessionState;
  /**
   * The reply is written by encodeReplyFrame (a wire connection, not the console): a large
   * stored pipeline may then stay its JSON text (RawJson), made BSON off the event loop.
   */
  pipelinesAsText?: boolean;
}

export type CommandHandler = (ctx: CommandContext) => Promise<Document>;

export interface CommandSpec {
  run: CommandHandler;
  /** 'none': answered before authentication; 'session': any authenticated user; else the access the roles must grant. */
  needs: 'none' | 'session' | Access;
}
