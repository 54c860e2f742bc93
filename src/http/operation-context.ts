// What a handler is given (RequestContext), as one class: every call's context then has one
// shape, with the URL and logger read from the request on first use. The object literal it
// replaces (a spread of the authorized scope, then getters) was built property by property in
// dictionary mode at every call: a few hundred bytes of garbage for each write of the seed loop,
// whose young-generation collections are most of its tail latency.
import type { Logger } from 'pino';
import type { Organization, Project } from '../domain/identity/model.js';
import type { OperationSpec } from '../protocol/operation-spec.js';
import type { QueryValues } from '../protocol/validate.js';
import type { StoreTx } from '../store/store.js';
import type { Scope } from './authorize.js';
import type { RequestContext, Services } from './context.js';
import type { Principal } from './principal.js';
import type { TransactionTasks } from './transaction.js';

/** What the context reads from the request only when a handler asks. */
export interface RequestFacts {
  readonly url: URL;
  readonly log: Logger;
}

export class OperationContext implements RequestContext {
  readonly project?: Project;
  readonly org?: Organization;
  readonly afterCommit: TransactionTasks['afterCommit'];
  readonly unlessCommitted: TransactionTasks['unlessCommitted'];

  constructor(
    private readonly request: RequestFacts,
    readonly clientIp: string,
    readonly operation: OperationSpec,
    readonly version: string,
    readonly params: Record<string, string>,
    readonly query: QueryValues,
    readonly body: unknown,
    readonly principal: Principal,
    readonly tx: StoreTx,
    readonly services: Services,
    scope: Scope,
    tasks: TransactionTasks,
  ) {
    this.project = scope.project;
    this.org = scope.org;
    this.afterCommit = tasks.afterCommit;
    this.unlessCommitted = tasks.unlessCommitted;
  }

  get url(): URL {
    return this.request.url;
  }

  get log(): Logger {
    return this.request.log;
  }
}
