// The query cache of $cachedLookup (sp-agg-cachedLookup): results per local value, kept
// for `ttl`; past `maxMemUsageBytes` expired entries go first, then the oldest (Atlas
// evicts at random; oldest-first is one such choice, and repeatable). Lookups for a value
// already in flight share its query.
import { EJSON } from 'bson';
import type { Doc, Value } from '../expressions/values.js';
import { bsonSize } from '../runtime/bson-size.js';

interface Entry { expires: number; bytes: number; matches: Promise<Doc[]> }

export class LookupCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly ttlMs: number, private readonly maxBytes: number) {}

  get(local: Value, query: () => Promise<Doc[]>): Promise<Doc[]> {
    const key = EJSON.stringify({ v: local ?? null }, { relaxed: false });
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.matches;
    if (hit) this.remove(key, hit);
    const entry: Entry = { expires: now + this.ttlMs, bytes: 0, matches: query() };
    this.entries.set(key, entry);
    entry.matches.then((docs) => {
      if (this.entries.get(key) !== entry) return;
      entry.bytes = docs.reduce((sum, d) => sum + bsonSize(d), key.length);
      this.bytes += entry.bytes;
      this.evict();
    }, () => { if (this.entries.get(key) === entry) this.entries.delete(key); });
    return entry.matches;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private evict(): void {
    if (this.bytes <= this.maxBytes) return;
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.remove(key, entry);
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(key, entry);
    }
  }
}
