// What one $group's state holds, in the BSON bytes the memory budget counts: each group's
// key and accumulator slots, plus every value $push and $addToSet keep (those grow with the
// input, and before this was counted a window could collect until the worker ran out of heap).
import type { Value } from '../expressions/values.js';
import { bsonValueSize } from '../runtime/bson-size.js';

/** Per-entry overhead guessed for the memory budget: the map slot, key and state objects. */
const ENTRY_OVERHEAD_BYTES = 96;
const SLOT_BYTES = 16;

/** A new group: its key and one slot per accumulator. */
export function entryBytes(key: Value, accumulators: number): number {
  return ENTRY_OVERHEAD_BYTES + bsonValueSize(key) + accumulators * SLOT_BYTES;
}

/** A value an accumulator kept (an element of a $push or $addToSet array). */
export function keptValueBytes(value: Value): number {
  return SLOT_BYTES + bsonValueSize(value);
}

/** A restored entry: its key, its slots and whatever its collecting accumulators hold. */
export function restoredEntryBytes(key: Value, states: Value[], collects: boolean[]): number {
  let bytes = entryBytes(key, states.length);
  states.forEach((state, i) => {
    if (collects[i] && Array.isArray(state)) for (const v of state) bytes += keptValueBytes(v);
  });
  return bytes;
}
