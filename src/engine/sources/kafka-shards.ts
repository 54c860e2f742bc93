// One processor's Kafka source split across worker threads (engine option
// kafkaSourceParallelism): every shard joins the same consumer group, and a fixed rule gives
// partition p of each topic to shard p mod count. A fixed rule rather than kafkajs's round
// robin keeps each partition with one shard for the whole run (its offsets in that shard's
// checkpoint only), however the shards' joins interleave.
import type { Assigner, GroupMember, PartitionAssigner } from 'kafkajs';
import { kafkaLibrary } from '../connections/client-libraries.js';

export interface SourceShard {
  /** This worker's place among the shards, 0..count-1. */
  index: number;
  count: number;
  /** Tells this run's shards from members a crashed earlier run may have left in the group. */
  run: string;
}

const ASSIGNER_NAME = 'AtlasStreamsEmulatorShards';

/** Offsets by `topic:partition`, as checkpoints keep them. */
export type Offsets = Record<string, number>;

export function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

export function ownsPartition(shard: Pick<SourceShard, 'index' | 'count'>, partition: number): boolean {
  return partition % shard.count === shard.index;
}

/**
 * The group's assignment, made by whichever shard leads it: partition p to the member whose
 * shard index is p mod count. A partition whose shard has not joined yet stays unassigned
 * until it does (no shard ever reads another's partitions, even for a moment).
 */
export function shardAssigner(shard: SourceShard): PartitionAssigner {
  const { AssignerProtocol } = kafkaLibrary();
  return ({ cluster }): Assigner => ({
    name: ASSIGNER_NAME,
    version: 1,
    protocol: ({ topics }) => ({
      name: ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(shard)) }),
    }),
    async assign({ members, topics }) {
      const owners = new Map<number, string>();
      for (const member of [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))) {
        const theirs = shardOf(member);
        if (theirs?.run === shard.run && theirs.count === shard.count && !owners.has(theirs.index)) owners.set(theirs.index, member.memberId);
      }
      const assignments = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
      for (const topic of topics) {
        for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
          const owner = owners.get(partitionId % shard.count);
          if (owner === undefined) continue;
          (assignments.get(owner)![topic] ??= []).push(partitionId);
        }
      }
      return [...assignments].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
      }));
    },
  });
}

function shardOf(member: GroupMember): SourceShard | undefined {
  try {
    const { userData } = kafkaLibrary().AssignerProtocol.MemberMetadata.decode(member.memberMetadata)!;
    return JSON.parse(userData.toString('utf8')) as SourceShard;
  } catch {
    return undefined;
  }
}
