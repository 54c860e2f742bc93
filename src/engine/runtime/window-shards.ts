// Windows over a Kafka source split across workers (kafkaSourceParallelism): every shard
// keeps the windows of its own partitions, and all but the first hand what they accumulated
// to the first (the emitting worker) every tick, with their partitions' watermark. The
// emitting worker merges the shares (incremental $group state, or buffered documents), closes
// windows on the watermark over all partitions, and runs the rest of the pipeline and the sink.
//
// Checkpoints are one for the processor, taken as a consistent cut over direct, ordered
// channels between the emitting worker and each shard: the emitting worker asks every shard
// for its state (offsets, counts, what it has not handed over yet); a share that reached it
// before a shard's state is in its own state, one after is held back until its own state is
// taken. So every document is counted once, in exactly one place, in the checkpoint.
//
// At stop the emitting worker stops its source and runs what it delivered, waits for a round
// under way (its shards' states may predate their stop), then takes a final round: each shard
// stops reading on that request (or its own stop, whichever comes first), hands over all it
// holds, then answers; nothing runs after a final state is taken, on either side, so nothing
// emitted after the final checkpoint is emitted again after a resume.
import type { MessagePort } from 'node:worker_threads';

/** This worker's channels to the others when windows are split: to the emitting worker, or from every other shard. */
export type ShardLinks = { toEmitter: MessagePort } | { fromShards: MessagePort[] };

export type ToShard =
  /** final: the emitting worker is stopping (the shard stops reading and hands over all it holds before it answers). */
  | { type: 'snapshot'; round: number; final: boolean }
  | { type: 'saved'; round: number };

export type FromShard =
  /** A WindowShare, encoded as checkpoint state is (its values keep their BSON types). */
  | { type: 'share'; share: Uint8Array }
  | { type: 'state'; round: number; state: Uint8Array };

/** The processor's checkpoint state: the emitting worker's state first, then each shard's (runtime/sharded-checkpoint.ts reads it). */
export function joinShardStates(states: Uint8Array[]): Uint8Array {
  const parts = [new TextEncoder().encode('{"shards":['), ...states.flatMap((state, i) => (i === 0 ? [state] : [new TextEncoder().encode(','), state])), new TextEncoder().encode(']}')];
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) { joined.set(part, at); at += part.length; }
  return joined;
}
