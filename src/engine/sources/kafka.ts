// Kafka source through kafkajs. Offsets are committed to the consumer group only after
// the checkpoint holding them is persisted; a resumed processor also seeks to the
// checkpointed offsets. The watermark is the smallest event time over partitions that
// are not idle (partitionIdleTimeout). With `schemaRegistry`, values are Avro in the
// registry's wire format, decoded with the schema their id names.
import { EJSON, Binary } from 'bson';
import type { Consumer, ConsumerRunConfig, KafkaMessage } from 'kafkajs';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import { createKafka } from '../connections/kafka.js';
import { AvroRecordError, SchemaRegistryClient } from '../connections/schema-registry.js';
import type { Doc, Value } from '../expressions/values.js';
import type { EngineSettings } from '../runtime/environment.js';
import { withRetries } from '../runtime/retry.js';
import { durationMs } from '../windows/durations.js';
import { parseJsonDocument } from './json-message.js';
import { shardAssigner, splitKey, type Offsets, type SourceShard } from './kafka-shards.js';
import type { Deliver, Source, SourceContext } from './source.js';

const UNPARSEABLE_REASON = 'Input message could not be parsed as JSON or Extended JSON';
const MAX_BATCH = 1000;
/**
 * Joins again after the group refused this member's join, in a row, before the processor fails.
 * Each refusal is a race this member lost (see the CRASH handler), not a verdict on it: on a busy
 * machine one worker can lose it several times running, so only a long run of losses fails.
 */
const REFUSED_JOIN_RETRIES = 20;
/** The wait before joining again doubles with each refusal in a row, up to the cap, so that a group in churn settles first. */
const REJOIN_DELAY_MS = 300;
const MAX_REJOIN_DELAY_MS = 5000;

function rejoinDelayMs(refusalsInARow: number): number {
  return Math.min(REJOIN_DELAY_MS * 2 ** (refusalsInARow - 1), MAX_REJOIN_DELAY_MS);
}

interface PartitionClock { maxEventTime: number; lastSeen: number }

export class KafkaSource implements Source {
  private readonly topics: string[];
  private readonly groupId: string;
  private readonly fromBeginning: boolean;
  private readonly keyFormat: string;
  private readonly keyFormatError: string;
  private readonly idleTimeout: number | undefined;
  private consumer: Consumer | undefined;
  private current: Offsets;
  private committed: Offsets;
  private readonly clocks = new Map<string, PartitionClock>();
  private stopped = false;
  /** The batch last handed to the pipeline, until it went through. */
  private processing: Promise<void> = Promise.resolve();
  /** A join again pending after the group refused this member's (the consumer is not running meanwhile). */
  private rejoin: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: SourceContext,
    spec: Doc,
    private readonly connection: ConnectionDefinition,
    private readonly options: { processorId: string; settings: EngineSettings; resumePosition: unknown; registry?: SchemaRegistryClient; shard?: SourceShard },
  ) {
    const topic: Value = spec['topic'];
    this.topics = Array.isArray(topic) ? topic : [topic];
    if (this.topics.length === 0 || this.topics.some((t) => typeof t !== 'string' || t === '')) throw new PipelineError('$source.topic must be a topic name or a list of them');
    const config = (spec['config'] ?? {}) as Doc;
    this.groupId = typeof config['group_id'] === 'string' ? config['group_id'] : `asp-${options.processorId}-consumer`;
    const reset = config['auto_offset_reset'] ?? 'latest';
    if (!['earliest', 'latest', 'smallest', 'largest', 'beginning', 'end'].includes(reset)) throw new PipelineError('$source.config.auto_offset_reset must be "earliest" or "latest"');
    this.fromBeginning = ['earliest', 'smallest', 'beginning'].includes(reset);
    this.keyFormat = config['keyFormat'] ?? 'binData';
    this.keyFormatError = config['keyFormatError'] ?? 'dlq';
    this.idleTimeout = spec['partitionIdleTimeout'] === undefined ? undefined : durationMs(spec['partitionIdleTimeout'], '$source.partitionIdleTimeout');
    // A shard's resume position names only the partitions it owns (runtime/sharded-checkpoint.ts).
    const resumeOffsets = (options.resumePosition as { offsets?: Offsets } | undefined)?.offsets;
    this.current = { ...resumeOffsets };
    this.committed = { ...resumeOffsets };
  }

  async start(deliver: Deliver): Promise<void> {
    const kafka = createKafka(this.connection, `asp-${this.options.processorId}`, this.options.settings, this.ctx.log);
    const runConfig: ConsumerRunConfig = {
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        for (let i = 0; i < batch.messages.length; i += MAX_BATCH) {
          // One batch runs in the pipeline while kafkajs fetches the next (it fetches again only
          // once eachBatch returns): the fetch's round trip overlaps the work instead of adding to it.
          await this.processing;
          if (!isRunning() || isStale() || this.stopped) break;
          this.processing = this.deliverMessages(deliver, batch.topic, batch.partition, batch.messages.slice(i, i + MAX_BATCH))
            .catch((error: Error) => this.ctx.fail(`Kafka source stopped: ${error.message}`));
          await heartbeat();
        }
      },
    };
    // A short fetch wait keeps stop (which waits for the fetch in flight) quick.
    const consumer = kafka.consumer({
      groupId: this.groupId, allowAutoTopicCreation: true, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 1000,
      ...(this.options.shard ? { partitionAssigners: [shardAssigner(this.options.shard)] } : {}),
    });
    this.consumer = consumer;
    // Refusals since this member last joined the group.
    let refusedJoins = 0;
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) return;
      const error = event.payload.error;
      // Stopping: the final checkpoint holds the offsets read, and close() disconnects anyway.
      if (this.stopped) {
        this.ctx.log.warn({ groupId: this.groupId, err: error.message }, 'the Kafka consumer stopped while the processor was stopping');
        return;
      }
      // librdkafka's mock cluster (kcat: the tests' and the bench's broker) answers a member
      // whose SyncGroup reaches it after the leader's with INVALID_REQUEST, where Kafka
      // answers with the member's partitions; kafkajs takes that as fatal. A busy worker is
      // often that late member, so it joins the group again (kafkajs left it on the crash).
      // Not only after a REBALANCING event: kafkajs also joins again on its own, without one,
      // when the coordinator has forgotten the member (UNKNOWN_MEMBER_ID after the mock held
      // the group past the session timeout), and that join's SyncGroup can be refused too.
      if (protocolErrorType(error) === 'INVALID_REQUEST' && refusedJoins < REFUSED_JOIN_RETRIES) {
        refusedJoins += 1;
        this.ctx.log.warn({ groupId: this.groupId, err: error.message }, 'the Kafka group refused this member\'s join; joining again');
        this.rejoin = setTimeout(() => {
          this.rejoin = undefined;
          consumer.run(runConfig).catch((e: Error) => this.ctx.fail(`Kafka source stopped: ${e.message}`));
        }, rejoinDelayMs(refusedJoins));
        return;
      }
      this.ctx.fail(`Kafka source stopped: ${error.message}`);
    });
    // A resumed processor starts from its checkpoint's offsets, which may be ahead of the
    // group's if the commit after the last checkpoint did not happen; after a rebalance (a
    // shard joining) the partitions kept go on from where this run got to, not from the commit.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      refusedJoins = 0;
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const offset = this.current[`${topic}:${partition}`];
          if (offset !== undefined) consumer.seek({ topic, partition, offset: String(offset) });
        }
      }
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.topics, fromBeginning: this.fromBeginning });
    } catch (error) {
      // kafkajs errors name neither the connection nor the step (e.g. a refused SASL login).
      throw new Error(`Kafka source could not connect through connection ${this.connection.name}: ${(error as Error).message}`);
    }
    await consumer.run(runConfig);
  }

  private async deliverMessages(deliver: Deliver, topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    const docs: Doc[] = [];
    let bytes = 0;
    const clock = this.clock(topic, partition);
    if (this.options.registry && !(await this.loadSchemas(this.options.registry, messages))) return;
    for (const message of messages) {
      bytes += message.value?.length ?? 0;
      const offset = Number(message.offset);
      const meta: Doc = { type: 'kafka', topic, partition, offset, ...this.keyMeta(message) };
      const time = new Date(Number(message.timestamp));
      let doc: Doc;
      try {
        doc = this.options.registry ? this.options.registry.decode(message.value) : parseJsonDocument(message.value?.toString('utf8') ?? '');
      } catch (error) {
        const reason = error instanceof AvroRecordError ? error.message : UNPARSEABLE_REASON;
        const value = !message.value ? null : this.options.registry ? new Binary(message.value) : message.value.toString('utf8');
        this.ctx.deadLetter({ value, _stream_meta: { source: meta } }, reason);
        continue;
      }
      if ('keyError' in meta) {
        delete meta['keyError'];
        if (this.keyFormatError === 'dlq') {
          this.ctx.deadLetter({ ...doc, _stream_meta: { source: meta } }, `Kafka key could not be read as ${this.keyFormat}`);
          continue;
        }
      }
      try {
        const stamped = this.ctx.stamp(doc, time, meta);
        const eventTime = (stamped[this.ctx.tsField] as Date).getTime();
        if (eventTime > clock.maxEventTime) clock.maxEventTime = eventTime;
        docs.push(stamped);
      } catch (error) {
        this.ctx.deadLetter(doc, (error as Error).message);
      }
    }
    clock.lastSeen = Date.now();
    const last = messages.at(-1);
    const key = `${topic}:${partition}`;
    const positionAfter = { offsets: { ...this.current, [key]: Number(last?.offset ?? -1) + 1 } };
    // Read up to here (the processor runs its batches in order, so the next one's position includes this one's).
    this.current = positionAfter.offsets;
    await deliver(docs, { messages: messages.length, bytes }, positionAfter);
  }

  /** Fetches the schemas the batch names; false (and the processor fails) when the registry cannot be reached. */
  private async loadSchemas(registry: SchemaRegistryClient, messages: KafkaMessage[]): Promise<boolean> {
    const ids = messages.filter((m) => m.value && m.value.length >= 5 && m.value[0] === 0).map((m) => m.value!.readInt32BE(1));
    try {
      await withRetries('fetching Avro schemas', () => registry.load(ids));
      return true;
    } catch (error) {
      this.ctx.fail(`Kafka source stopped: ${(error as Error).message}`);
      return false;
    }
  }

  private keyMeta(message: KafkaMessage): Doc {
    if (!message.key) return {};
    try {
      switch (this.keyFormat) {
        case 'string': return { key: message.key.toString('utf8') };
        case 'json': return { key: EJSON.parse(message.key.toString('utf8'), { relaxed: true }) };
        case 'int': return { key: message.key.readInt32BE(0) };
        case 'long': return { key: Number(message.key.readBigInt64BE(0)) };
        case 'double': return { key: message.key.readDoubleBE(0) };
        default: return { key: new Binary(message.key) };
      }
    } catch {
      return { key: new Binary(message.key), keyError: true };
    }
  }

  private clock(topic: string, partition: number): PartitionClock {
    const key = `${topic}:${partition}`;
    let clock = this.clocks.get(key);
    if (!clock) {
      clock = { maxEventTime: Number.NEGATIVE_INFINITY, lastSeen: Date.now() };
      this.clocks.set(key, clock);
    }
    return clock;
  }

  watermark(): number | undefined {
    const now = Date.now();
    let min: number | undefined;
    for (const clock of this.clocks.values()) {
      if (!Number.isFinite(clock.maxEventTime)) continue;
      if (this.idleTimeout !== undefined && now - clock.lastSeen >= this.idleTimeout) continue;
      min = min === undefined ? clock.maxEventTime : Math.min(min, clock.maxEventTime);
    }
    return min;
  }

  position(): unknown {
    return { offsets: { ...this.current } };
  }

  async checkpointSaved(position: unknown): Promise<void> {
    const offsets = (position as { offsets: Offsets }).offsets;
    const changed = Object.entries(offsets).filter(([key, offset]) => this.committed[key] !== offset);
    if (changed.length === 0 || !this.consumer) return;
    try {
      await this.consumer.commitOffsets(changed.map(([key, offset]) => {
        const [topic, partition] = splitKey(key);
        return { topic, partition, offset: String(offset) };
      }));
      this.committed = { ...this.committed, ...Object.fromEntries(changed) };
    } catch (error) {
      // The checkpoint already holds these offsets and a resumed processor seeks to them;
      // a failed commit (e.g. during a rebalance) only makes the group's view lag.
      this.ctx.log.warn({ groupId: this.groupId, err: (error as Error).message }, 'could not commit Kafka offsets');
    }
  }

  kafkaPartitions(): Array<{ partition: number; currentOffset: number; checkpointOffset: number }> {
    return Object.entries(this.current).map(([key, currentOffset]) => ({
      partition: splitKey(key)[1],
      currentOffset,
      checkpointOffset: this.committed[key] ?? 0,
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rejoin) {
      clearTimeout(this.rejoin);
      this.rejoin = undefined;
      return;
    }
    this.consumer?.pause(this.topics.map((topic) => ({ topic })));
  }

  async close(): Promise<void> {
    clearTimeout(this.rejoin);
    await this.consumer?.disconnect();
  }
}

/**
 * The broker's error code name (e.g. INVALID_REQUEST). kafkajs's retrier wraps a protocol error it
 * will not retry in a KafkaJSNonRetriableError whose `cause` is the original, with the type.
 */
function protocolErrorType(error: Error & { type?: string; cause?: unknown }): string | undefined {
  return error.type ?? (error.cause as { type?: string } | undefined)?.type;
}
