// One client connection: bytes in, frames out of them (frame-reader.ts), one command at a
// time in arrival order, one reply each. Nothing a client sends ends the process or touches
// another connection: every failure becomes an {ok: 0} reply. Only a frame length that makes
// the stream impossible to follow closes the connection, after answering it.
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import { findDatabaseUser } from '../domain/identity/database-users.js';
import { encodeMsg, encodeResponse, OP_QUERY, type Command } from './codec.js';
import { COMMANDS } from './commands/table.js';
import type { CommandContext, SessionState } from './commands/types.js';
import { errorReply, MESSAGES, replyForError, WireError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import { decodeFrame, encodeReplyFrame } from './large-frames.js';
import { requireAccess } from './privileges.js';
import type { Endpoint } from './workspace.js';

/** Stop reading from a client that has this many commands waiting (pipelining floods). */
const MAX_QUEUED = 32;

let nextConnectionId = 1;

export class Session {
  readonly state: SessionState;
  private readonly reader = new FrameReader();
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;

  constructor(private readonly socket: Socket, private readonly endpoint: Endpoint) {
    this.state = {
      connectionId: nextConnectionId++,
      remoteAddress: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`,
      conversations: new Map(),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => endpoint.log.debug({ err: error, connectionId: this.state.connectionId }, 'wire connection error'));
    socket.on('close', () => {
      this.closed = true;
      void endpoint.cursors.connectionClosed(this.state.connectionId);
    });
  }

  private onData(chunk: Buffer): void {
    for (const event of this.reader.push(chunk)) {
      if (event.kind === 'frame') {
        this.enqueue(() => this.runFrame(event.frame));
      } else if (event.kind === 'oversized') {
        const reply = errorReply('ProtocolError', MESSAGES.tooLarge(event.length));
        this.enqueue(async () => this.write(encodeResponse({ opCode: event.opCode === OP_QUERY ? OP_QUERY : 0, requestId: event.requestId }, reply)));
      } else {
        const reply = errorReply('ProtocolError', MESSAGES.badLength(event.length));
        this.enqueue(async () => {
          this.write(encodeMsg(event.requestId, reply));
          this.socket.end();
        });
      }
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.queued += 1;
    if (this.queued >= MAX_QUEUED) this.socket.pause();
    this.chain = this.chain.then(task).catch((error: unknown) => {
      this.endpoint.log.error({ err: error, connectionId: this.state.connectionId }, 'wire session failed unexpectedly');
    }).finally(() => {
      this.queued -= 1;
      if (this.queued < MAX_QUEUED && this.socket.isPaused()) this.socket.resume();
    });
  }

  /** A frame, whole or in parts (a large reply's header, then its BSON). */
  private write(...parts: Uint8Array[]): void {
    if (this.closed || !this.socket.writable) return;
    this.socket.cork();
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
  }

  private async runFrame(frame: Buffer): Promise<void> {
    // Read first: a large frame's memory is handed over to the decoding worker.
    const requestId = frame.readInt32LE(4);
    const opCode = frame.readInt32LE(12);
    let command: Command;
    try {
      command = await decodeFrame(frame);
    } catch (error) {
      const { reply, unexpected } = replyForError(error);
      if (unexpected) this.endpoint.log.error({ err: error, connectionId: this.state.connectionId }, 'wire frame decoding failed unexpectedly');
      this.write(encodeResponse({ opCode: opCode === OP_QUERY ? OP_QUERY : 0, requestId }, reply));
      return;
    }
    const reply = await this.dispatch(command);
    if (command.noReply) return;
    try {
      this.write(...await encodeReplyFrame(command, reply));
    } catch (error) {
      this.endpoint.log.error({ err: error, connectionId: this.state.connectionId }, 'wire reply encoding failed unexpectedly');
      this.write(encodeResponse(command, replyForError(error).reply));
    }
  }

  /** Runs one command; always answers a document. */
  async dispatch(command: Command): Promise<Document> {
    const name = Object.keys(command.body)[0] ?? '';
    const started = performance.now();
    try {
      const reply = await runCommand({ name, body: command.body, db: command.db, endpoint: this.endpoint, session: this.state, pipelinesAsText: true });
      this.logCommand(name, started, true);
      return reply;
    } catch (error) {
      const { reply, unexpected } = replyForError(error);
      if (unexpected) this.endpoint.log.error({ err: error, command: name, connectionId: this.state.connectionId }, 'wire command failed unexpectedly');
      this.logCommand(name, started, false, reply['codeName'] as string);
      return reply;
    }
  }

  private logCommand(command: string, started: number, ok: boolean, codeName?: string): void {
    if (!this.endpoint.log.isLevelEnabled('debug')) return;
    this.endpoint.log.debug({ command, user: this.state.user?.username, connectionId: this.state.connectionId, ok, codeName,
      ms: Math.round((performance.now() - started) * 1000) / 1000 }, 'wire command');
  }
}

/**
 * One command, checked against the user's roles as they are now (a user changed or deleted
 * through the Admin API is held to it at once). The web console runs database users'
 * actions through here too, so both doors apply the same rules.
 */
export async function runCommand(ctx: CommandContext): Promise<Document> {
  const { name, endpoint } = ctx;
  const spec = COMMANDS.get(name);
  if (!spec) throw new WireError('CommandNotFound', MESSAGES.unknownCommand(name));
  const { user } = ctx.session;
  if (spec.needs !== 'none' && !user) throw new WireError('Unauthorized', MESSAGES.notAuthenticated(name));
  if ((spec.needs === 'read' || spec.needs === 'write') && user) {
    const current = await endpoint.services.store.read((tx) => findDatabaseUser(tx, endpoint.groupId, user.username));
    requireAccess(current?.roles ?? [], spec.needs, name, endpoint.instanceName);
  }
  return spec.run(ctx);
}
