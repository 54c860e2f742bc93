// What a credential resolved to (a bearer token's principal; an API key's principal and
// HA1), kept while the store is unchanged: a client's every call would otherwise read the
// account or key, its secret, the revocation list and the access list again. Any committed
// write of an identity entity (a revocation, a role change, a deleted secret or key, a new
// access list entry) moves the store's identity generation on, and the entry is no longer
// used; a stream resource's write (a connection, a processor) leaves it, so a client that
// writes connections is not checked afresh on its next call.
import type { Store } from '../../store/store.js';

const MAX_ENTRIES = 10_000;

interface Entry {
  generation: number;
  value: unknown;
}

const byStore = new WeakMap<Store, Map<string, Entry>>();

/** Keys of different kinds never meet: "digest <username>", and a bearer token itself (a JWT has no space). */
export function cachedPrincipal<T>(store: Store, key: string): T | undefined {
  const entry = byStore.get(store)?.get(key);
  return entry && entry.generation === store.identityGeneration() ? (entry.value as T) : undefined;
}

/** generation: the store's identity generation when the value was read (inside that read). */
export function rememberPrincipal<T>(store: Store, key: string, generation: number, value: T): void {
  let entries = byStore.get(store);
  if (!entries) byStore.set(store, (entries = new Map()));
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { generation, value });
}
