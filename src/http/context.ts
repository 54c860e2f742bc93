// What a handler receives and returns. Handlers are thin: they read the context, apply the
// domain rules of their module and return an entity; the HTTP layer does the rest.
import type { Logger } from 'pino';
import type { ProcessorRunner } from '../engine/contract.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { OperationId } from '../protocol/generated/types.js';
import type { OperationSpec } from '../protocol/operation-spec.js';
import type { QueryValues } from '../protocol/validate.js';
import type { ReplayLedger } from '../store/replay-ledger.js';
import type { Store, StoreTx } from '../store/store.js';
import type { Organization, Project } from '../domain/identity/model.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lifecycles } from '../domain/streams/lifecycles.js';
import type { Principal } from './principal.js';

export interface Services {
  store: Store;
  /** HMAC key for Digest nonces and OAuth tokens, derived from the key file (never in the store). */
  signingKey: Buffer;
  /** Where each Digest (nonce, nc) pair's use is recorded, so that a replay is refused. */
  nonceUses: ReplayLedger;
  secretBox: SecretBox;
  runner: ProcessorRunner;
  log: Logger;
  now: () => Date;
  /**
   * Resolves once every workspace's wire endpoint matches the store (the wire layer's
   * listeners, src/wire); absent when the server runs without them.
   */
  settleWireEndpoints?: () => Promise<void>;
  /** Transitions that take time (admin lifecycles); every change immediate when absent. */
  lifecycles?: Lifecycles;
}

export interface RequestContext {
  operation: OperationSpec;
  /** The served resource version (YYYY-MM-DD). */
  version: string;
  params: Record<string, string>;
  query: QueryValues;
  body: unknown;
  principal: Principal;
  tx: StoreTx;
  services: Services;
  /** The project of a {groupId} path, already authorized. */
  project?: Project;
  /** The organization of an {orgId} path, already authorized. */
  org?: Organization;
  /** The absolute request URL (scheme and host as the caller used them). */
  url: URL;
  clientIp: string;
  log: Logger;
  /** Work to do once the transaction has committed (engine start and stop). */
  afterCommit(task: () => Promise<void>): void;
  /** Undoes what this run of the transaction did outside the store, should it not commit (transaction.ts). */
  unlessCommitted(task: () => Promise<void>): void;
}

export interface HandlerResult {
  /** Defaults to the operation's documented success status. */
  status?: number;
  /** An entity, a list ({links, results, totalCount}), or undefined for no body. */
  body?: unknown;
  /** A non-JSON body (the gzip audit log). */
  raw?: { data: Buffer; headers: Record<string, string> };
}

export type Handler = (ctx: RequestContext) => Promise<HandlerResult>;
export type HandlerTable = Partial<Record<OperationId, Handler>>;

/** An authenticated API call, once its response status is known. */
export interface CompletedCall {
  principal: string;
  operationId: string;
  method: string;
  path: string;
  status: number;
  params: Record<string, string>;
  /** From the request's arrival to the response's last byte. */
  durationMs: number;
  /** When the response's last byte went (epoch ms). */
  at: number;
  /** When refused for want of a role: the roles of which one was needed. */
  requiredRoles?: readonly string[];
}

/** A request to a route outside the Atlas paths, already authenticated. */
export interface ExtensionRequest {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  principal: Principal;
  services: Services;
  log: Logger;
}

/** Routes outside /api/atlas/v2 that authenticate their callers themselves. */
export interface OwnAuthRoutes {
  prefix: string;
  handle(request: Omit<ExtensionRequest, 'principal'>): Promise<void>;
}

/** Routes outside /api/atlas/v2 (the emulator's own endpoints), authenticated like the API. */
export interface RouteExtension {
  prefix: string;
  handle(request: ExtensionRequest): Promise<void>;
}
