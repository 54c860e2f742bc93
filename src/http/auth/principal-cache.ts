// Principals already looked up for a bearer token, kept while the store is unchanged: a
// client's every call would otherwise read the account, its secret, the revocation list and
// the access list again. Any committed entity write (a revocation, a role change, a deleted
// secret) moves the store's generation on, and the entry is no longer used.
import type { Store } from '../../store/store.js';
import type { Principal } from '../principal.js';

const MAX_ENTRIES = 10_000;

interface Entry {
  generation: number;
  principal: Principal;
}

const byStore = new WeakMap<Store, Map<string, Entry>>();

export function cachedPrincipal(store: Store, key: string): Principal | undefined {
  const entry = byStore.get(store)?.get(key);
  return entry && entry.generation === store.generation() ? entry.principal : undefined;
}

/** generation: the store's generation when the principal was read (inside that read). */
export function rememberPrincipal(store: Store, key: string, generation: number, principal: Principal): void {
  let entries = byStore.get(store);
  if (!entries) byStore.set(store, (entries = new Map()));
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { generation, principal });
}
