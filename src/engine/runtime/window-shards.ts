// Windows over a Kafka source split across workers (kafkaSourceParallelism): every shard
// keeps the windows of its own partitions (incremental $group state, or buffered documents),
// and all but the first tell the first (the emitting worker) their partitions' watermark
// every tick, with the windows that watermark has passed, each once. The emitting worker
// combines those with its own ($sum adds, $max compares, ... accumulators.ts merge), closes
// windows on the watermark over all partitions (emitting them as shares arrive and on its own
// ticks, so the sinks get a few large writes), and sends each output document, by its _id,
// to the shard that runs the rest of the pipeline and the sink for it (itself included), so
// the per-event work and the output's are split and only the windows' partial state crosses.
//
// Checkpoints are one for the processor, taken as a consistent cut over direct, ordered
// channels between the emitting worker and each shard: the emitting worker asks every shard
// for its state (offsets, counts, the windows it keeps); a share that reached it before a
// shard's state is in its own state, one after is held back until its own state is taken.
// Output it sends a shard after asking for its state (which that shard runs after answering)
// goes into its own state as pendingOutput, run first after a resume. So every document is
// counted once, in exactly one place, in the checkpoint.
//
// At stop the emitting worker stops its source and runs what it delivered, waits for a round
// under way (its shards' states may predate their stop), then takes a final round: each shard
// stops reading on that request (or its own stop, whichever comes first), hands over what its
// watermark passed, then answers, and keeps its sink until then; nothing runs after a final
// state is taken, on either side, so nothing emitted after the final checkpoint is emitted
// again after a resume.
import type { MessagePort } from 'node:worker_threads';
import { isPlainObject, type Doc, type Value } from '../expressions/values.js';
import { keyId } from '../stages/group-state.js';
import type { WindowShare } from '../stages/operator.js';
import { decodeCheckpointState, encodeCheckpointState } from './checkpoint-codec.js';

/** This worker's channels to the others when windows are split: to the emitting worker, or from every other shard. */
export type ShardLinks = { toEmitter: MessagePort } | { fromShards: MessagePort[] };

export type ToShard =
  /** final: the emitting worker is stopping (the shard stops reading and hands over all it holds before it answers). */
  | { type: 'snapshot'; round: number; final: boolean }
  | { type: 'saved'; round: number }
  /** Window output this shard runs the rest of the pipeline and the sink for (outputOwner). */
  | { type: 'output'; docs: Packed<Doc[]> };

export type FromShard =
  | { type: 'share'; share: Packed<WindowShare> }
  | { type: 'state'; round: number; state: Uint8Array };

/** The processor's checkpoint state: the emitting worker's state first, then each shard's (runtime/sharded-checkpoint.ts reads it). */
export function joinShardStates(states: Uint8Array[]): Uint8Array {
  const parts = [new TextEncoder().encode('{"shards":['), ...states.flatMap((state, i) => (i === 0 ? [state] : [new TextEncoder().encode(','), state])), new TextEncoder().encode(']}')];
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) { joined.set(part, at); at += part.length; }
  return joined;
}

/** What travels between shards: as it is (postMessage clones it) or encoded as checkpoint state is. */
export type Packed<T> = T | Uint8Array;

/**
 * Plain data goes as it is: the structured clone postMessage makes costs a fraction of
 * Extended JSON both ways. Anything holding BSON classes (ObjectId, Long, Decimal128, ...),
 * whose prototypes a clone drops, is encoded as checkpoint state is, keeping their types.
 * knownPlain: the sender knows the value is plain data (a share says so: WindowShare.plain),
 * so it is not walked to find out.
 */
export function pack<T>(value: T, knownPlain = false): { packed: Packed<T>; transfer: ArrayBuffer[] } {
  if (knownPlain || clonesAsIs(value)) return { packed: value, transfer: [] };
  const bytes = encodeCheckpointState(value);
  return { packed: bytes, transfer: [bytes.buffer as ArrayBuffer] };
}

export function unpack<T>(packed: Packed<T>): T {
  return packed instanceof Uint8Array ? decodeCheckpointState(packed) as T : packed;
}

/** Whether a structured clone of `value` is equal to it, prototypes included. */
function clonesAsIs(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (value instanceof Date) return true;
  if (Array.isArray(value)) return value.every(clonesAsIs);
  if (!isPlainObject(value)) return false;
  for (const key in value) if (!clonesAsIs((value as Record<string, unknown>)[key])) return false;
  return true;
}

/**
 * Which shard runs the rest of the pipeline and the sink for a window's output document: by
 * its _id (the $group key), so one key's documents keep their order; the emitting worker's
 * own when there is none. FNV-1a over the key's text: a few lines, stable across workers
 * (unlike any per-process hash), so no library for it.
 */
export function outputOwner(id: Value, count: number): number {
  if (id === undefined) return 0;
  const text = keyId(id);
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0) % count;
}
