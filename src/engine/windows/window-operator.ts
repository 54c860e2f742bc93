// $tumblingWindow and $hoppingWindow over event time (or processing time). The watermark
// is the largest event time seen (or the source's own, for Kafka partitions); a window
// closes once watermark - allowedLateness reaches its end. Documents for windows that
// already closed go to the DLQ.
import { PipelineError } from '../contract.js';
import { isPlainObject, type Doc, type Value } from '../expressions/values.js';
import type { Operator, StageContext, WindowShare } from '../stages/operator.js';
import { durationMs, offsetMs, optionalDurationMs } from './durations.js';
import { checkStageOptions } from '../stage-options.js';
import { InnerPipeline } from './inner-pipeline.js';
import { LATE_REASON, NO_EVENT_TIME_REASON, sourceTypeOf, withOpenWindow, withWindowMeta } from './late.js';
import { SessionWindowOperator } from './session-window.js';
import type { WindowContents } from './window-contents.js';

export const WINDOW_STAGES = new Set(['$tumblingWindow', '$hoppingWindow', '$sessionWindow']);
const DEFAULT_ALLOWED_LATENESS_MS = 3000;

export interface WindowDeps {
  tsField: string;
  sourceWatermark: (() => number | undefined) | undefined;
  buildInner(stages: Doc[]): Operator[];
  /**
   * This worker is one of several reading a Kafka source's partitions, but not the one that
   * emits: it accumulates windows for its partitions and hands them over (takeShare) instead
   * of closing them.
   */
  handsOver?: boolean;
  /**
   * This worker emits for several reading a Kafka source's partitions: it closes windows as
   * the other shards' shares arrive and on its ticks, not after each of its own batches, so
   * their output goes to the sinks in a few large writes rather than one per batch (each
   * write a round trip and a fixed cost on every worker). Documents for a window the
   * watermark has passed are late all the same.
   */
  emitsOnTick?: boolean;
}

export function createWindowOperator(name: string, spec: Value, ctx: StageContext, deps: WindowDeps): Operator {
  if (!isPlainObject(spec)) throw new PipelineError(`${name} must be an object`);
  checkStageOptions(name, spec);
  const boundary = spec['boundary'] ?? 'eventTime';
  if (boundary !== 'eventTime' && boundary !== 'processingTime') throw new PipelineError(`${name}.boundary must be "eventTime" or "processingTime"`);
  if (boundary === 'processingTime') {
    // The stage pages: idleTimeout and allowedLateness cannot be set with processingTime.
    for (const option of ['allowedLateness', 'idleTimeout']) {
      if (spec[option] !== undefined) throw new PipelineError(`${name}.${option} cannot be set when boundary is processingTime`);
    }
  }
  if (!Array.isArray(spec['pipeline'])) throw new PipelineError(`${name}.pipeline must be an array of stages`);
  const lateness = optionalDurationMs(spec['allowedLateness'], `${name}.allowedLateness`, DEFAULT_ALLOWED_LATENESS_MS);
  if (name === '$sessionWindow') {
    if (spec['partitionBy'] === undefined) throw new PipelineError('$sessionWindow requires partitionBy');
    durationMs(spec['gap'], '$sessionWindow.gap');
  }
  const size = name === '$sessionWindow' ? 0 : durationMs(spec['interval'], `${name}.interval`);
  const hop = name === '$hoppingWindow' ? durationMs(spec['hopSize'], `${name}.hopSize`) : size;
  const offset = offsetMs(spec['offset'], `${name}.offset`);
  // idleTimeout: 0 is the same as none.
  const idleTimeout = optionalDurationMs(spec['idleTimeout'], `${name}.idleTimeout`, 0) || undefined;
  // A hopping window adds a document to several windows: it goes to the DLQ once.
  const rejected = new WeakSet<Doc>();
  const inner = new InnerPipeline(spec['pipeline'] as Doc[], deps.buildInner, (doc, reason) => {
    if (rejected.has(doc)) return;
    rejected.add(doc);
    ctx.deadLetter(doc, reason);
  });
  if (name === '$sessionWindow') return new SessionWindowOperator(spec, inner, lateness, ctx, deps);
  return new TimeWindowOperator(name, {
    size, hop, lateness, offset, idleTimeout,
    processingTime: boundary === 'processingTime',
  }, inner, ctx, deps);
}

interface TimeWindowConfig {
  size: number;
  hop: number;
  offset: number;
  lateness: number;
  idleTimeout: number | undefined;
  processingTime: boolean;
}

interface Pending { starts: number[]; docs: Doc[] }

class TimeWindowOperator implements Operator {
  private readonly windows = new Map<number, WindowContents>();
  private maxEventTime = Number.NEGATIVE_INFINITY;
  /** Windows ending at or before this line are closed. */
  private closedLine = Number.NEGATIVE_INFINITY;
  private lastArrival = Date.now();
  private sourceType: string | undefined;
  /** The source watermark each other shard last reported (the emitting worker of a split source). */
  private readonly shardWatermarks = new Map<number, number>();
  private restored = false;

  constructor(
    readonly name: string,
    private readonly config: TimeWindowConfig,
    private readonly inner: InnerPipeline,
    private readonly ctx: StageContext,
    private readonly deps: WindowDeps,
  ) {}

  async process(docs: Doc[]): Promise<Doc[]> {
    this.lastArrival = Date.now();
    const out: Doc[] = [];
    let pending: Pending | undefined;
    for (const doc of docs) {
      const time = this.eventTime(doc);
      if (time === undefined) { this.ctx.deadLetter(doc, NO_EVENT_TIME_REASON); continue; }
      const starts = this.windowStarts(time);
      if (time > this.maxEventTime) this.maxEventTime = time;
      // A hop longer than the interval leaves gaps: a document there belongs to no window.
      if (starts.length === 0) continue;
      this.sourceType ??= sourceTypeOf(doc);
      const open = starts.filter((s) => s + this.config.size > this.closedLine);
      if (open.length === 0) {
        this.ctx.deadLetter(doc, LATE_REASON, { missedWindowStartTimes: starts.map((s) => new Date(s)) });
        continue;
      }
      const key = open.join(',');
      if (pending && pending.starts.join(',') !== key) { await this.assign(pending); pending = undefined; }
      if (!pending) pending = { starts: open, docs: [] };
      pending.docs.push(doc);
      const line = this.watermark() - this.config.lateness;
      if (line >= this.earliestEnd(open)) {
        await this.assign(pending);
        pending = undefined;
        out.push(...(await this.closeThrough(line)));
      }
    }
    if (pending) await this.assign(pending);
    out.push(...(await this.closeThrough(this.watermark() - this.config.lateness)));
    return out;
  }

  async onTick(now: number): Promise<Doc[]> {
    if (this.config.processingTime) return this.closeThrough(now);
    if (this.deps.emitsOnTick) return this.closeThrough(this.watermark() - this.config.lateness, true);
    const { idleTimeout, size } = this.config;
    if (idleTimeout === undefined || this.windows.size === 0) return [];
    // A quiet source closes a window after max(its remaining time, idleTimeout): the
    // remaining time is how far its end lies beyond the watermark.
    const idle = now - this.lastArrival;
    if (idle < idleTimeout) return [];
    let line = Number.NEGATIVE_INFINITY;
    for (const start of this.windows.keys()) {
      if (idle >= start + size - this.maxEventTime) line = Math.max(line, start + size);
    }
    return Number.isFinite(line) ? this.closeThrough(line) : [];
  }

  watermark(): number {
    // Over every partition, also those other shards read.
    let fromSource = this.deps.sourceWatermark?.();
    for (const reported of this.shardWatermarks.values()) fromSource = fromSource === undefined ? reported : Math.min(fromSource, reported);
    return fromSource === undefined ? this.maxEventTime : Math.min(fromSource, this.maxEventTime);
  }

  /**
   * The windows this shard's partitions have passed (their end at or before its watermark
   * less the lateness), each once, and its watermark. The emitting worker cannot close a later
   * window before it hears a later watermark from this shard, so the others stay here,
   * accumulating, until a later hand-over (or this shard's checkpoint state holds them). Once
   * the emitting worker has the watermark it may close windows up to it, so from then on this
   * shard treats documents for those windows as late itself. Without a watermark (no event
   * read yet) everything goes.
   */
  takeShare(): WindowShare {
    const sourceWatermark = this.deps.sourceWatermark?.();
    const line = sourceWatermark === undefined ? Number.POSITIVE_INFINITY : sourceWatermark - this.config.lateness;
    if (sourceWatermark !== undefined) this.closedLine = Math.max(this.closedLine, line);
    const windows: WindowShare['windows'] = [];
    let plain = true;
    for (const [start, contents] of this.windows) {
      if (start + this.config.size > line) continue;
      windows.push({ start, contents: contents.snapshot() });
      plain &&= contents.snapshotIsPlain();
      this.windows.delete(start);
    }
    return { windows, sourceType: this.sourceType, sourceWatermark, maxEventTime: Number.isFinite(this.maxEventTime) ? this.maxEventTime : null, plain };
  }

  async mergeShare(from: number, share: WindowShare): Promise<Doc[]> {
    if (share.sourceWatermark !== undefined) this.shardWatermarks.set(from, share.sourceWatermark);
    if (share.maxEventTime !== null && share.maxEventTime > this.maxEventTime) this.maxEventTime = share.maxEventTime;
    this.sourceType ??= share.sourceType;
    for (const { start, contents } of share.windows) {
      const arrived = this.inner.restoreContents(contents);
      if (start + this.config.size > this.closedLine) {
        this.contentsOf(start).merge(arrived);
        continue;
      }
      // The shard had not yet heard that this window closed: what it held for it is late.
      for (const doc of arrived.results()) this.ctx.deadLetter(doc, LATE_REASON, { missedWindowStartTimes: [new Date(start)] });
    }
    return this.closeThrough(this.watermark() - this.config.lateness, true);
  }

  stateSize(): number {
    let bytes = 0;
    for (const contents of this.windows.values()) bytes += contents.sizeBytes();
    return bytes;
  }

  snapshot(): unknown {
    return {
      maxEventTime: Number.isFinite(this.maxEventTime) ? this.maxEventTime : null,
      closedLine: Number.isFinite(this.closedLine) ? this.closedLine : null,
      windows: [...this.windows].map(([start, contents]) => ({ start, contents: contents.snapshot() })),
    };
  }

  /**
   * Called again for each other shard's state when a split Kafka source resumes: their
   * windows merge in; the line of closed windows stays the first (emitting) state's.
   */
  restore(state: unknown): void {
    const s = state as { maxEventTime: number | null; closedLine: number | null; windows: Array<{ start: number; contents: unknown }> };
    if (!this.restored) this.closedLine = s.closedLine ?? Number.NEGATIVE_INFINITY;
    this.restored = true;
    this.maxEventTime = Math.max(this.maxEventTime, s.maxEventTime ?? Number.NEGATIVE_INFINITY);
    for (const w of s.windows) this.contentsOf(w.start).merge(this.inner.restoreContents(w.contents));
  }

  private eventTime(doc: Doc): number | undefined {
    if (this.config.processingTime) return Date.now();
    const v: Value = doc[this.deps.tsField];
    return v instanceof Date ? v.getTime() : undefined;
  }

  /** Start times of every window containing `time`, oldest first. */
  private windowStarts(time: number): number[] {
    const { size, hop, offset } = this.config;
    const latest = Math.floor((time - offset) / hop) * hop + offset;
    const starts: number[] = [];
    for (let start = latest; start + size > time; start -= hop) starts.unshift(start);
    return starts;
  }

  /** The earliest end among windows still open to documents (a shard's or a deferred emitter's passed windows wait only to be handed over or emitted). */
  private earliestEnd(starts: number[]): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const start of this.windows.keys()) if (start + this.config.size > this.closedLine) earliest = Math.min(earliest, start + this.config.size);
    for (const start of starts) earliest = Math.min(earliest, start + this.config.size);
    return earliest;
  }

  private async assign(pending: Pending): Promise<void> {
    if (this.inner.readsWindowMeta) {
      for (const start of pending.starts) {
        const end = start + this.config.size;
        this.contentsOf(start).add(await this.inner.arrive(pending.docs.map((doc) => withOpenWindow(doc, start, end))));
      }
      return;
    }
    const arrived = await this.inner.arrive(pending.docs);
    if (arrived.length === 0) return;
    for (const start of pending.starts) this.contentsOf(start).add(arrived);
  }

  private contentsOf(start: number): WindowContents {
    let contents = this.windows.get(start);
    if (!contents) {
      contents = this.inner.newContents();
      this.windows.set(start, contents);
    }
    return contents;
  }

  /** Closes windows through `line` for documents; emits every window closed so far unless this worker hands them over or emits on ticks only. */
  private async closeThrough(line: number, emit = !this.deps.emitsOnTick): Promise<Doc[]> {
    if (line > this.closedLine) this.closedLine = line;
    if (this.deps.handsOver || !emit) return [];
    const due = [...this.windows.keys()].filter((start) => start + this.config.size <= this.closedLine).sort((a, b) => a - b);
    const out: Doc[] = [];
    for (const start of due) {
      const contents = this.windows.get(start)!;
      this.windows.delete(start);
      const end = start + this.config.size;
      const window = { start: new Date(start), end: new Date(end) };
      for (const doc of await this.inner.close(contents)) out.push(withWindowMeta(doc, window, this.sourceType));
    }
    return out;
  }
}
