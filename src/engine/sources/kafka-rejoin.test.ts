// The Kafka source joins its group again when the group refuses this member's join with
// INVALID_REQUEST (librdkafka's mock cluster answers a member whose SyncGroup comes after the
// leader's so): driven deterministically through a stand-in for kafkajs's consumer, since the
// mock cluster gives that answer only when two members' SyncGroups race.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceContext } from './source.js';

/** The part of a kafkajs consumer the source uses; `run` calls are counted. */
class StandInConsumer extends EventEmitter {
  readonly events = { REBALANCING: 'rebalancing', CRASH: 'crash', GROUP_JOIN: 'group-join' };
  runs = 0;
  paused = false;
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(): Promise<void> { this.runs += 1; }
  pause(): void { this.paused = true; }
  seek(): void {}
  async commitOffsets(): Promise<void> {}
  async disconnect(): Promise<void> {}
  /** kafkajs's crash event for an error of this type, after which it does not restart the consumer itself. */
  crash(type: string): void {
    this.emit(this.events.CRASH, { payload: { restart: false, error: Object.assign(new Error(`The group answered ${type}`), { type }) } });
  }
  /** The same error as it comes out of kafkajs's retrier: a KafkaJSNonRetriableError whose cause has the type. */
  crashThroughRetrier(type: string): void {
    const protocolError = Object.assign(new Error(`The group answered ${type}`), { type });
    this.emit(this.events.CRASH, { payload: { restart: false, error: Object.assign(new Error(protocolError.message), { name: 'KafkaJSNonRetriableError', cause: protocolError }) } });
  }
}

let consumer: StandInConsumer;
vi.mock('../connections/kafka.js', () => ({ createKafka: () => ({ consumer: () => consumer }) }));
const { KafkaSource } = await import('./kafka.js');

describe('Kafka source: a join the group refuses', () => {
  let failures: string[];
  let source: InstanceType<typeof KafkaSource>;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    consumer = new StandInConsumer();
    failures = [];
    const ctx: SourceContext = {
      deadLetter: () => undefined, stamp: (doc) => doc, tsField: '_ts',
      fail: (message) => { failures.push(message); },
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    };
    source = new KafkaSource(ctx, { topic: 'events' }, { name: 'kafka1', type: 'Kafka', bootstrapServers: 'localhost:9092' }, {
      processorId: 'p1', settings: { sampleRatePerSecond: 0, checkpointIntervalMs: 1000 }, resumePosition: undefined,
    });
    await source.start(async () => undefined);
    expect(consumer.runs).toBe(1);
  });

  afterEach(() => { vi.useRealTimers(); });

  /** The waits before each join again, in a row: 300 ms doubling up to 5 s. */
  const waitBefore = (refusal: number) => Math.min(300 * 2 ** (refusal - 1), 5000);

  it('joins again after a refused join, and again after a refusal once it has joined (kafkajs rejoins on its own after UNKNOWN_MEMBER_ID)', () => {
    consumer.crash('INVALID_REQUEST');
    expect(failures).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(consumer.runs).toBe(2);
    consumer.emit(consumer.events.GROUP_JOIN, { payload: { memberAssignment: { events: [0, 1] } } });
    // Joined, then refused again without a REBALANCING event: the count and the wait start afresh.
    for (let refused = 1; refused <= 5; refused++) {
      consumer.crash('INVALID_REQUEST');
      vi.advanceTimersByTime(waitBefore(refused));
      expect(consumer.runs).toBe(2 + refused);
    }
    consumer.emit(consumer.events.GROUP_JOIN, { payload: { memberAssignment: { events: [0, 1] } } });
    consumer.crash('INVALID_REQUEST');
    vi.advanceTimersByTime(300);
    expect(consumer.runs).toBe(8);
    expect(failures).toEqual([]);
  });

  it('joins again when the refusal reaches it wrapped by kafkajs\'s retrier', () => {
    consumer.crashThroughRetrier('INVALID_REQUEST');
    vi.advanceTimersByTime(300);
    expect(consumer.runs).toBe(2);
    expect(failures).toEqual([]);
    consumer.crashThroughRetrier('UNKNOWN_MEMBER_ID');
    expect(failures).toEqual(['Kafka source stopped: The group answered UNKNOWN_MEMBER_ID']);
  });

  it('waits longer before each join again while the refusals go on, up to five seconds', () => {
    for (let refused = 1; refused <= 8; refused++) {
      consumer.crash('INVALID_REQUEST');
      vi.advanceTimersByTime(waitBefore(refused) - 1);
      expect(consumer.runs).toBe(refused);
      vi.advanceTimersByTime(1);
      expect(consumer.runs).toBe(1 + refused);
    }
    expect(waitBefore(8)).toBe(5000);
  });

  it('fails the processor after twenty refused joins in a row', () => {
    for (let refused = 1; refused <= 20; refused++) {
      consumer.crash('INVALID_REQUEST');
      vi.advanceTimersByTime(waitBefore(refused));
      expect(consumer.runs).toBe(1 + refused);
    }
    expect(failures).toEqual([]);
    consumer.crash('INVALID_REQUEST');
    vi.advanceTimersByTime(5000);
    expect(consumer.runs).toBe(21);
    expect(failures).toEqual(['Kafka source stopped: The group answered INVALID_REQUEST']);
  });

  it('does not join again once stopped while a join again is pending', async () => {
    consumer.crash('INVALID_REQUEST');
    await source.stop();
    vi.advanceTimersByTime(300);
    expect(consumer.runs).toBe(1);
    expect(failures).toEqual([]);
  });

  it('does not fail the processor when the consumer crashes while the processor is stopping', async () => {
    await source.stop();
    consumer.crash('INVALID_REQUEST');
    consumer.crash('UNKNOWN_MEMBER_ID');
    vi.advanceTimersByTime(5000);
    expect(consumer.runs).toBe(1);
    expect(failures).toEqual([]);
  });

  it('fails the processor at once when a join fails for another reason', () => {
    consumer.crash('UNKNOWN_MEMBER_ID');
    vi.advanceTimersByTime(300);
    expect(consumer.runs).toBe(1);
    expect(failures).toEqual(['Kafka source stopped: The group answered UNKNOWN_MEMBER_ID']);
  });
});
