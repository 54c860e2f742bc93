// The running state of one $group: one accumulator state per group key.
import { EJSON } from 'bson';
import type { Doc, Value } from '../expressions/values.js';
import type { CompiledGroup } from './accumulators.js';
import { entryBytes, keptValueBytes, restoredEntryBytes } from './state-size.js';

interface Entry { key: Value; states: Value[] }

export class GroupState {
  private readonly entries = new Map<string, Entry>();
  /** Estimated BSON bytes held (state-size.ts), kept up to date as values arrive. */
  private bytes = 0;
  /**
   * Every key and value added so far is a primitive or a Date, so the state is plain data a
   * structured clone keeps as it is (runtime/window-shards.ts), known without walking it.
   */
  private scalarsOnly = true;
  /** Argument values of the document being added (reused: add() runs once per document). */
  private readonly scratch: Value[] = [];

  constructor(private readonly group: CompiledGroup) {}

  add(doc: Doc): void {
    const key = this.group.key(doc) ?? null;
    const fields = this.group.fields;
    // Every argument is evaluated before any state changes, so a document whose
    // expression fails leaves the group as it was (it goes to the DLQ instead).
    const values = this.scratch;
    for (let i = 0; i < fields.length; i++) values[i] = fields[i]!.argument(doc);
    if (this.scalarsOnly) this.scalarsOnly = scalarsOnly(key, values, fields.length);
    const id = keyId(key);
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { key, states: fields.map((f) => f.accumulator.init()) };
      this.entries.set(id, entry);
      this.bytes += entryBytes(key, this.group.fields.length);
    }
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const value = values[i];
      if (!field.accumulator.collects) {
        entry.states[i] = field.accumulator.add(entry.states[i], value);
        continue;
      }
      const before = (entry.states[i] as Value[]).length;
      entry.states[i] = field.accumulator.add(entry.states[i], value);
      if ((entry.states[i] as Value[]).length > before) this.bytes += keptValueBytes(value as Value);
    }
  }

  /** Folds `later` into this state (session windows that grow together). */
  merge(later: GroupState): void {
    // $addToSet may keep fewer values once merged; counting them all errs on the safe side.
    this.bytes += later.bytes;
    this.scalarsOnly &&= later.scalarsOnly;
    for (const [id, other] of later.entries) {
      const mine = this.entries.get(id);
      if (!mine) this.entries.set(id, other);
      else mine.states = mine.states.map((s, i) => this.group.fields[i]!.accumulator.merge(s, other.states[i]));
    }
  }

  results(): Doc[] {
    return [...this.entries.values()].map((entry) => {
      const out: Doc = { _id: entry.key };
      this.group.fields.forEach((f, i) => { out[f.name] = f.accumulator.result(entry.states[i]); });
      return out;
    });
  }

  sizeEstimate(): number {
    return this.bytes;
  }

  holdsScalarsOnly(): boolean {
    return this.scalarsOnly;
  }

  snapshot(): Entry[] {
    return [...this.entries.values()];
  }

  static restore(group: CompiledGroup, entries: Entry[]): GroupState {
    const state = new GroupState(group);
    // Restored from a checkpoint: what its values are is not known without walking them.
    state.scalarsOnly = false;
    const collects = group.fields.map((f) => f.accumulator.collects === true);
    for (const entry of entries) {
      state.entries.set(keyId(entry.key), entry);
      state.bytes += restoredEntryBytes(entry.key, entry.states, collects);
    }
    return state;
  }
}

function isScalar(value: Value): boolean {
  return value === null || typeof value !== 'object' || value instanceof Date;
}

/**
 * The key and the first `count` values are all scalars. A plain loop: add() runs it for every
 * document, and `[key, ...values].every(isScalar)` there cost a measurable share of a
 * tumbling-window $group (its callback per value, on the reused scratch array).
 */
function scalarsOnly(key: Value, values: Value[], count: number): boolean {
  if (!isScalar(key)) return false;
  for (let i = 0; i < count; i++) if (!isScalar(values[i])) return false;
  return true;
}

/** A group key as text: equal keys, equal text. */
export function keyId(key: Value): string {
  if (key === null || key === undefined) return 'null';
  if (typeof key === 'number' || typeof key === 'string' || typeof key === 'boolean') return `${typeof key}:${key}`;
  if (key instanceof Date) return `date:${key.getTime()}`;
  return `ejson:${EJSON.stringify(key, { relaxed: false })}`;
}
