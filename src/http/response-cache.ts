// Serialized answers of reads whose result depends on the store and the request alone (a
// connection, the list of an instance's connections), kept while the store is unchanged: a
// client polling one resource would otherwise pay on every call for the store reads,
// authorization, rendering and JSON of an answer that cannot have changed. Any committed
// entity write (a role change, a revoked token, an edited connection) moves the store's
// generation on and empties the cache; on PostgreSQL a write at any node does, seen by the
// next call anywhere (the request first catches up with the database's generations).
import type { Store } from '../store/store.js';
import type { Answer } from './respond.js';

/** Bounds memory: at most MAX_ENTRIES answers of at most MAX_TEXT_LENGTH characters each. */
const MAX_ENTRIES = 1000;
const MAX_TEXT_LENGTH = 16 * 1024;

export class ResponseCache {
  private entries = new Map<string, Answer>();
  private generation: number;

  constructor(private readonly store: Store, private readonly cacheable: ReadonlySet<string>) {
    this.generation = store.generation();
  }

  /** The key of a call whose answer may be kept, or undefined when it may not. */
  keyOf(operationId: string, method: string, principalId: string, host: string, target: string, contentType: string): string | undefined {
    if (method !== 'GET' || !this.cacheable.has(operationId)) return undefined;
    // The host is part of the answer (pagination links); the target carries the query (envelope, pretty, paging).
    return `${principalId}\n${host}\n${target}\n${contentType}`;
  }

  get(key: string): Answer | undefined {
    this.forgetIfChanged();
    return this.entries.get(key);
  }

  /** generation: the store's generation read inside the read that produced the answer. */
  set(key: string, generation: number, answer: Answer): void {
    this.forgetIfChanged();
    if (generation !== this.generation || answer.text === undefined || answer.text.length > MAX_TEXT_LENGTH) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, answer);
  }

  private forgetIfChanged(): void {
    const current = this.store.generation();
    if (current === this.generation) return;
    this.generation = current;
    this.entries.clear();
  }
}
