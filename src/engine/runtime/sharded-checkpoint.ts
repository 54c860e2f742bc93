// One checkpoint for a processor whose Kafka source runs as several shards
// (kafkaSourceParallelism): each shard's state side by side, `{shards: [...]}`. Without a
// window the engine keeps each shard's latest state (ShardedCheckpoints): shards own disjoint
// partitions, so states taken at different moments still make a whole, every partition
// resuming where the shard that read it had got to (at-least-once, as a single worker). With
// a window the emitting worker takes the states as one cut itself (window-shards.ts).
import type { Checkpoint } from '../contract.js';
import { ownsPartition, splitKey, type Offsets } from '../sources/kafka-shards.js';
import { decodeCheckpointState, encodeCheckpointState } from './checkpoint-codec.js';
import type { CheckpointState } from './processor.js';
import type { PersistedCounters } from './stats.js';

interface ShardedState { shards: CheckpointState[] }

/** How encodeCheckpointState writes a ShardedState: recognised without parsing a (possibly large) unsharded state. */
const SHARDED_PREFIX = new TextEncoder().encode('{"shards":');

function isSharded(state: unknown): boolean {
  return state instanceof Uint8Array && SHARDED_PREFIX.every((byte, i) => state[i] === byte);
}

/**
 * What each of `count` workers resumes from. Offsets go to the shard that owns their
 * partition now (the count may differ from the run that wrote the checkpoint); counts, window
 * state (every old shard's, merged) and sink state go to the first, so that the shards' stats
 * add up to the whole.
 */
export function splitCheckpoint(checkpoint: Checkpoint | undefined, count: number): Array<Checkpoint | undefined> {
  if (!checkpoint) return Array.from({ length: count }, () => undefined);
  const sharded = isSharded(checkpoint.state);
  if (count === 1 && !sharded) return [checkpoint];
  const states = sharded ? (decodeCheckpointState(checkpoint.state) as ShardedState).shards : [decodeCheckpointState(checkpoint.state) as CheckpointState];
  const offsets: Offsets = {};
  for (const state of states) {
    for (const [key, offset] of Object.entries((state.source as { offsets?: Offsets } | undefined)?.offsets ?? {})) {
      offsets[key] = Math.min(offset, offsets[key] ?? offset);
    }
  }
  const first = states[0]!;
  return Array.from({ length: count }, (_, index) => {
    const owned = Object.fromEntries(Object.entries(offsets).filter(([key]) => ownsPartition({ index, count }, splitKey(key)[1])));
    const state: CheckpointState = index === 0
      ? {
        source: { offsets: owned }, operators: first.operators, mergedOperators: states.slice(1).map((s) => s.operators),
        counters: sumCounters(states.map((s) => s.counters)), sink: first.sink, pendingOutput: first.pendingOutput,
      }
      : { source: { offsets: owned }, operators: [] };
    return { id: checkpoint.id, takenAt: checkpoint.takenAt, state: encodeCheckpointState(state) };
  });
}

/** Keeps every shard's latest state and writes them as one checkpoint whenever one of them changes. */
export class ShardedCheckpoints {
  private readonly states: CheckpointState[];
  private id: number;

  constructor(resumed: Array<Checkpoint | undefined>, lastId: number) {
    // Small states (offsets and counts): decoding them on the main thread costs little.
    this.states = resumed.map((checkpoint) => (checkpoint ? decodeCheckpointState(checkpoint.state) as CheckpointState : { source: { offsets: {} }, operators: [] }));
    this.id = lastId;
  }

  update(index: number, state: unknown): Checkpoint {
    this.states[index] = decodeCheckpointState(state) as CheckpointState;
    this.id += 1;
    return { id: this.id, takenAt: new Date().toISOString(), state: encodeCheckpointState({ shards: this.states } satisfies ShardedState) };
  }
}

function sumCounters(all: Array<PersistedCounters | undefined>): PersistedCounters | undefined {
  const present = all.filter((c): c is PersistedCounters => c !== undefined);
  if (present.length === 0) return undefined;
  const add = <T extends Record<string, number | undefined>>(a: T, b: T): T => {
    const sum: Record<string, number> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
    return sum as T;
  };
  return present.reduce((a, b) => ({
    totals: add(a.totals, b.totals),
    operators: a.operators.length === b.operators.length ? a.operators.map((o, i) => add(o, b.operators[i]!)) : a.operators,
  }));
}
