// The `sample_stream_solar` generator. Documents are a pure function of (seed, index), so
// a checkpoint only records the next index and a resumed processor continues the same
// sequence. The seed comes from `$source.config.seed`; without one a random seed is drawn
// at first start and kept in the checkpoint. Event time is the wall clock at generation.
import type { Doc } from '../expressions/values.js';
import { bsonSize } from '../runtime/bson-size.js';
import type { Deliver, Source, SourceContext } from './source.js';

export interface SampleOptions {
  seed?: number;
  /** Documents per second; 0 or Infinity generates as fast as the pipeline takes them. */
  ratePerSecond: number;
}

interface SamplePosition { seed: number; next: number }

const MAX_BATCH = 1000;

export function generateSolarReading(seed: number, index: number, at: Date): Doc {
  const random = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const device = Math.floor(random() * 11);
  const maxWatts = device % 2 === 0 ? 450 : 250;
  return {
    device_id: `device_${device}`,
    group_id: Math.floor(random() * 10),
    timestamp: at.toISOString().replace('Z', '+00:00'),
    max_watts: maxWatts,
    event_type: random() < 0.9 ? 0 : 1,
    obs: { watts: Math.floor(random() * maxWatts), temp: 5 + Math.floor(random() * 30) },
  };
}

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SampleSolarSource implements Source {
  private seed: number;
  private next = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly ctx: SourceContext, private readonly options: SampleOptions, resumeFrom?: unknown) {
    const position = resumeFrom as SamplePosition | undefined;
    this.seed = position?.seed ?? options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.next = position?.next ?? 0;
  }

  async start(deliver: Deliver): Promise<void> {
    this.loop = this.run(deliver);
  }

  private async run(deliver: Deliver): Promise<void> {
    const rate = this.options.ratePerSecond;
    const unlimited = !(rate > 0) || !Number.isFinite(rate);
    const startedAt = Date.now();
    const firstIndex = this.next;
    while (!this.stopped) {
      let count = MAX_BATCH;
      if (!unlimited) {
        const due = Math.floor(((Date.now() - startedAt) / 1000) * rate) - (this.next - firstIndex);
        count = Math.min(due, MAX_BATCH);
        if (count <= 0) {
          await sleep(Math.max(1, Math.ceil(1000 / rate)));
          continue;
        }
      }
      const now = new Date();
      const docs: Doc[] = [];
      let bytes = 0;
      let firstSize = 0;
      let firstIdLength = 0;
      for (let i = 0; i < count; i++) {
        const doc = generateSolarReading(this.seed, this.next + i, now);
        try {
          const stamped = this.ctx.stamp(doc, now, { type: 'generated' });
          // Readings differ only in device_id's length (every number is an int32, the
          // timestamp has a fixed width): one BSON size per batch gives every other one.
          const idLength = (stamped['device_id'] as string).length;
          if (docs.length === 0) { firstSize = bsonSize(stamped); firstIdLength = idLength; }
          bytes += firstSize + idLength - firstIdLength;
          docs.push(stamped);
        } catch (error) {
          this.ctx.deadLetter(doc, (error as Error).message);
        }
      }
      this.next += count;
      await deliver(docs, { messages: docs.length, bytes }, this.position());
      if (unlimited) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  position(): SamplePosition {
    return { seed: this.seed, next: this.next };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
