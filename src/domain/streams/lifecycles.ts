// Controllable lifecycles, as moto offers: by default every change is immediate (what the
// emulator has always done); a rule makes a transition take time, so a client's polling code
// meets the intermediate states Atlas shows: a connection PENDING after it is created and
// DELETING (still readable, its name still taken) after it is deleted, a private link
// WORKING then DONE, or DELETING; a processor STARTING or STOPPING. The transition ends
// after some seconds, or after some reads of the resource (each GET or list that shows it).
//
// Rules and transitions in progress live in memory: a restart ends every transition.
// A processor's engine starts and stops at once; only the state the API shows waits.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../http/errors.js';

export type LifecycleResource = 'connection' | 'privateLink' | 'processor';
export type LifecycleTransition = 'create' | 'delete' | 'start' | 'stop';

/** The state each transition shows while it lasts. */
const SHOWN: Record<LifecycleResource, Partial<Record<LifecycleTransition, string>>> = {
  connection: { create: 'PENDING', delete: 'DELETING' },
  privateLink: { create: 'WORKING', delete: 'DELETING' },
  processor: { start: 'STARTING', stop: 'STOPPING' },
};

export interface LifecycleRuleInput {
  /** connection, privateLink or processor; every resource when absent. */
  resource?: LifecycleResource;
  /** create, delete (connections, private links), start, stop (processors); every one when absent. */
  transition?: LifecycleTransition;
  /** Only this connection or processor (by name) or private link (by id); every one when absent. */
  name?: string;
  /** The transition ends this many seconds after it began... */
  afterSeconds?: number;
  /** ...or after this many reads of the resource. */
  afterReads?: number;
}

export interface LifecycleRule extends LifecycleRuleInput {
  id: string;
}

interface Pending {
  shown: string;
  /** The stored state the transition leads to: should the resource leave it (a failure), the transition is over. */
  target: string;
  deadline?: number;
  readsLeft?: number;
  /** For a deletion: removes the resource once the transition ends. */
  finish?: () => Promise<void>;
  timer?: NodeJS.Timeout;
}

/** What a read needs: a way to run the deletion once the read's transaction has committed. */
export interface ReadScope {
  afterCommit(task: () => Promise<void>): void;
}

const RULE_FIELDS = ['resource', 'transition', 'name', 'afterSeconds', 'afterReads'];
const MAX_SECONDS = 3600;

function invalid(field: string): never {
  throw new ApiError('INVALID_ATTRIBUTE', [field]);
}

export function checkLifecycleRule(input: unknown): LifecycleRuleInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ApiError('MALFORMED_JSON');
  const rule = input as Record<string, unknown>;
  for (const key of Object.keys(rule)) if (!RULE_FIELDS.includes(key)) invalid(key);
  const { resource, transition, name, afterSeconds, afterReads } = rule;
  if (resource !== undefined && !(typeof resource === 'string' && resource in SHOWN)) invalid('resource');
  const transitions = resource === undefined ? Object.values(SHOWN).flatMap((t) => Object.keys(t)) : Object.keys(SHOWN[resource as LifecycleResource]);
  if (transition !== undefined && !transitions.includes(transition as string)) invalid('transition');
  if (name !== undefined && (typeof name !== 'string' || name === '')) invalid('name');
  if ((afterSeconds === undefined) === (afterReads === undefined)) throw new ApiError('MISSING_ATTRIBUTE', ['afterSeconds or afterReads (one of them)']);
  if (afterSeconds !== undefined && (typeof afterSeconds !== 'number' || !(afterSeconds > 0) || afterSeconds > MAX_SECONDS)) invalid('afterSeconds');
  if (afterReads !== undefined && (!Number.isInteger(afterReads) || (afterReads as number) < 1)) invalid('afterReads');
  return rule as LifecycleRuleInput;
}

export interface Lifecycles {
  add(input: unknown): LifecycleRule;
  list(): LifecycleRule[];
  remove(id: string): boolean;
  /** Removes every rule; transitions already begun run to their end. */
  clear(): void;
  /**
   * Starts the transition if a rule says so: the state it shows, or undefined when the change
   * is immediate. For a deletion, finish removes the resource when the transition ends.
   */
  begin(resource: LifecycleResource, transition: LifecycleTransition, target: { id: string; name: string; state: string }, finish?: () => Promise<void>): string | undefined;
  /** The state a read shows for the resource in its stored state (counting the read). */
  shown(scope: ReadScope, id: string, stored: string): string;
  /** Forgets a resource's transition (the resource is gone). */
  forget(id: string): void;
  /** Ends every transition and timer (server stop, reset). */
  close(): void;
  /** No rule and no transition under way: every read shows the stored state. */
  idle(): boolean;
}

export function createLifecycles(onError: (error: unknown) => void, now: () => number = Date.now): Lifecycles {
  let rules: LifecycleRule[] = [];
  // Keyed by the resource's id: ObjectIds are unique across kinds.
  const pending = new Map<string, Pending>();

  /** The most specific rule wins (a named one over a general one); the latest among equals. */
  function ruleFor(resource: LifecycleResource, transition: LifecycleTransition, name: string): LifecycleRule | undefined {
    const matching = rules.filter((r) => (r.resource ?? resource) === resource && (r.transition ?? transition) === transition && (r.name ?? name) === name);
    const specificity = (r: LifecycleRule) => (r.name ? 4 : 0) + (r.resource ? 2 : 0) + (r.transition ? 1 : 0);
    return matching.reduce<LifecycleRule | undefined>((best, r) => (!best || specificity(r) >= specificity(best) ? r : best), undefined);
  }

  function settle(key: string, entry: Pending): void {
    clearTimeout(entry.timer);
    pending.delete(key);
  }

  function finishLater(key: string, entry: Pending, run: (task: () => Promise<void>) => void): void {
    settle(key, entry);
    if (entry.finish) run(() => entry.finish!().catch(onError));
  }

  return {
    add(input) {
      const rule: LifecycleRule = { ...checkLifecycleRule(input), id: randomUUID() };
      rules.push(rule);
      return rule;
    },
    list: () => rules.map((r) => ({ ...r })),
    remove(id) {
      const before = rules.length;
      rules = rules.filter((r) => r.id !== id);
      return rules.length < before;
    },
    clear() {
      rules = [];
    },
    begin(resource, transition, target, finish) {
      const shown = SHOWN[resource][transition];
      const rule = shown === undefined ? undefined : ruleFor(resource, transition, target.name);
      const key = target.id;
      const previous = pending.get(key);
      if (previous) settle(key, previous);
      if (!rule || shown === undefined) return undefined;
      const entry: Pending = { shown, target: target.state, finish };
      if (rule.afterReads !== undefined) entry.readsLeft = rule.afterReads;
      else {
        entry.deadline = now() + rule.afterSeconds! * 1000;
        // A deletion ends by itself when its time is up; a state merely shown ends at the next read.
        if (finish) {
          entry.timer = setTimeout(() => finishLater(key, entry, (task) => void task()), rule.afterSeconds! * 1000);
          entry.timer.unref();
        }
      }
      pending.set(key, entry);
      return shown;
    },
    shown(scope, id, stored) {
      const key = id;
      const entry = pending.get(key);
      if (!entry) return stored;
      if (entry.target !== stored) {
        settle(key, entry);
        return stored;
      }
      if (entry.deadline !== undefined) {
        if (entry.finish || now() < entry.deadline) return entry.shown;
        settle(key, entry);
        return stored;
      }
      if (entry.readsLeft! > 0) {
        entry.readsLeft!--;
        // The last read that shows a deletion removes the resource before it is answered.
        if (entry.readsLeft === 0 && entry.finish) finishLater(key, entry, (task) => scope.afterCommit(task));
        return entry.shown;
      }
      settle(key, entry);
      return stored;
    },
    forget(id) {
      const entry = pending.get(id);
      if (entry) settle(id, entry);
    },
    close() {
      for (const [key, entry] of [...pending]) settle(key, entry);
    },
    idle() {
      return rules.length === 0 && pending.size === 0;
    },
  };
}

/** A read's view of a resource's state: the transition's while one lasts. */
export function shownState(ctx: ReadScope & { services: { lifecycles?: Lifecycles } }, id: string, stored: string): string {
  return ctx.services.lifecycles?.shown(ctx, id, stored) ?? stored;
}
