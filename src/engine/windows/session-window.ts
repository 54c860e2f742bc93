// $sessionWindow: per partitionBy key, a session runs from its first event to its last
// event + gap. An event within gap of two sessions merges them. A session closes once
// watermark - allowedLateness reaches its end.
import { EJSON } from 'bson';
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import type { Doc, Evaluate, Value } from '../expressions/values.js';
import type { Operator, StageContext } from '../stages/operator.js';
import { durationMs } from './durations.js';
import type { InnerPipeline } from './inner-pipeline.js';
import { LATE_REASON, NO_EVENT_TIME_REASON, sourceTypeOf, withWindowMeta } from './late.js';
import type { WindowContents } from './window-contents.js';
import type { WindowDeps } from './window-operator.js';

interface Session { start: number; last: number; partition: Value; contents: WindowContents }

export class SessionWindowOperator implements Operator {
  readonly name = '$sessionWindow';
  private readonly partitionBy: Evaluate;
  private readonly gap: number;
  private readonly sessions = new Map<string, Session[]>();
  private maxEventTime = Number.NEGATIVE_INFINITY;
  private closedLine = Number.NEGATIVE_INFINITY;
  private sourceType: string | undefined;

  constructor(
    spec: Doc,
    private readonly inner: InnerPipeline,
    private readonly lateness: number,
    private readonly ctx: StageContext,
    private readonly deps: WindowDeps,
  ) {
    if (spec['partitionBy'] === undefined) throw new PipelineError('$sessionWindow requires partitionBy');
    this.partitionBy = compileExpression(spec['partitionBy']);
    this.gap = durationMs(spec['gap'], '$sessionWindow.gap');
  }

  async process(docs: Doc[]): Promise<Doc[]> {
    const out: Doc[] = [];
    for (const doc of docs) {
      const t: Value = doc[this.deps.tsField];
      if (!(t instanceof Date)) { this.ctx.deadLetter(doc, NO_EVENT_TIME_REASON); continue; }
      const time = t.getTime();
      let key: string;
      let partition: Value;
      try {
        partition = this.partitionBy(doc) ?? null;
        key = EJSON.stringify(partition, { relaxed: false });
      } catch (error) {
        this.ctx.deadLetter(doc, (error as Error).message);
        continue;
      }
      const list = this.sessions.get(key) ?? [];
      // sp-agg-session: two documents share a session when their timestamps differ by less than the gap.
      const touching = list.filter((s) => time > s.start - this.gap && time < s.last + this.gap);
      if (touching.length === 0 && time + this.gap <= this.closedLine) {
        // The session it missed is the one it would have opened: sessions start at their
        // first event. Closed sessions are not remembered (that state would grow with
        // every key ever seen), so one it fell inside is reported from this event too.
        this.ctx.deadLetter(doc, LATE_REASON, { missedWindowStartTimes: [new Date(time)] });
        continue;
      }
      this.sourceType ??= sourceTypeOf(doc);
      const arrived = await this.inner.arrive([doc]);
      const session = this.join(list, touching, time, partition);
      session.contents.add(arrived);
      this.sessions.set(key, list);
      if (time > this.maxEventTime) this.maxEventTime = time;
      out.push(...(await this.closeThrough(this.watermark() - this.lateness)));
    }
    return out;
  }

  /** Returns the session `time` belongs to, merging sessions it bridges (earliest first). */
  private join(list: Session[], touching: Session[], time: number, partition: Value): Session {
    if (touching.length === 0) {
      const session = { start: time, last: time, partition, contents: this.inner.newContents() };
      list.push(session);
      return session;
    }
    touching.sort((a, b) => a.start - b.start);
    const [first, ...rest] = touching as [Session, ...Session[]];
    for (const later of rest) {
      first.contents.merge(later.contents);
      first.last = Math.max(first.last, later.last);
      list.splice(list.indexOf(later), 1);
    }
    first.start = Math.min(first.start, time);
    first.last = Math.max(first.last, time);
    return first;
  }

  watermark(): number {
    const fromSource = this.deps.sourceWatermark?.();
    return fromSource === undefined ? this.maxEventTime : Math.min(fromSource, this.maxEventTime);
  }

  private async closeThrough(line: number): Promise<Doc[]> {
    if (line > this.closedLine) this.closedLine = line;
    const out: Doc[] = [];
    for (const [key, list] of this.sessions) {
      const due = list.filter((s) => s.last + this.gap <= line).sort((a, b) => a.start - b.start);
      for (const session of due) {
        list.splice(list.indexOf(session), 1);
        const window = { start: new Date(session.start), end: new Date(session.last + this.gap), partition: session.partition };
        for (const doc of await this.inner.close(session.contents)) out.push(withWindowMeta(doc, window, this.sourceType));
      }
      if (list.length === 0) this.sessions.delete(key);
    }
    return out;
  }

  stateSize(): number {
    let bytes = 0;
    for (const list of this.sessions.values()) for (const s of list) bytes += s.contents.sizeBytes();
    return bytes;
  }

  snapshot(): unknown {
    return {
      maxEventTime: Number.isFinite(this.maxEventTime) ? this.maxEventTime : null,
      closedLine: Number.isFinite(this.closedLine) ? this.closedLine : null,
      sessions: [...this.sessions].map(([key, list]) => ({
        key,
        sessions: list.map((s) => ({ start: s.start, last: s.last, partition: s.partition, contents: s.contents.snapshot() })),
      })),
    };
  }

  restore(state: unknown): void {
    const s = state as { maxEventTime: number | null; closedLine: number | null; sessions: Array<{ key: string; sessions: Array<{ start: number; last: number; partition?: Value; contents: unknown }> }> };
    this.maxEventTime = s.maxEventTime ?? Number.NEGATIVE_INFINITY;
    this.closedLine = s.closedLine ?? Number.NEGATIVE_INFINITY;
    for (const entry of s.sessions) {
      // Checkpoints from before partitions were kept: the key is the partition in canonical EJSON.
      const partition = (x: { partition?: Value }) => ('partition' in x ? x.partition : EJSON.parse(entry.key, { relaxed: false }));
      this.sessions.set(entry.key, entry.sessions.map((x) => ({ start: x.start, last: x.last, partition: partition(x), contents: this.inner.restoreContents(x.contents) })));
    }
  }
}
