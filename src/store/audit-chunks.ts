// The audit trail as both stores keep it: chunks, one row per flushed batch and scope, each
// holding that batch's events of that scope as JSON lines. A row per event (a table row and two
// index entries) cost the event loop 5.4 µs a call on SQLite in memory, 12 in a data directory,
// and 500 bytes of memory; a chunk costs little more than its events' JSON text (JSON.stringify
// is 1.8 µs of it): 3.1 and 7.4 µs, 325 bytes. What is the same for both stores lives here: how
// a batch becomes chunks, and how a download picks its lines out of the chunks it reads.
import type { AuditEvent } from './store.js';

export interface AuditChunk {
  scopeId: string;
  /** The earliest and latest `at` of the chunk's lines: the rows' index keys. */
  firstAt: string;
  lastAt: string;
  /** The events' JSON text, one a line, in the order they were recorded. */
  lines: string;
}

/**
 * The length of the prefix of `at` that every line of a chunk shares (the minute:
 * 2026-01-01T00:00). A chunk never spans two, so a chunk that reaches into a window starts at
 * or after the window's first minute (chunkReadFrom): a download seeks the scope's chunks from
 * there on its index instead of reading every older chunk to find the ones that reach into it.
 */
const SHARED_PREFIX = 16;

/** The least first_at a chunk holding a line at or after fromIso can have. */
export function chunkReadFrom(fromIso: string): string {
  return fromIso.slice(0, SHARED_PREFIX);
}

/** A batch of recorded events as chunks: one per scope and minute, each one's text built once. */
export function chunksOf(batch: ReadonlyArray<{ scopeId: string; event: AuditEvent }>): AuditChunk[] {
  const byScope = new Map<string, Map<string, AuditEvent[]>>();
  for (const { scopeId, event } of batch) {
    let byMinute = byScope.get(scopeId);
    if (!byMinute) byScope.set(scopeId, byMinute = new Map());
    const minute = event.at.slice(0, SHARED_PREFIX);
    const events = byMinute.get(minute);
    if (events) events.push(event);
    else byMinute.set(minute, [event]);
  }
  const chunks: AuditChunk[] = [];
  for (const [scopeId, byMinute] of byScope) {
    for (const events of byMinute.values()) {
      let firstAt = events[0]!.at;
      let lastAt = firstAt;
      let lines = '';
      for (const event of events) {
        if (event.at < firstAt) firstAt = event.at;
        if (event.at > lastAt) lastAt = event.at;
        // JSON text holds no raw line break: a line is always one event.
        lines += lines === '' ? JSON.stringify(event) : `\n${JSON.stringify(event)}`;
      }
      chunks.push({ scopeId, firstAt, lastAt, lines });
    }
  }
  return chunks;
}

/** A stored line, ordered as the trail is: by time, then the order it was written in. */
interface Line {
  at: string;
  /** The chunk's seq (write order across chunks), then the line's place in it. */
  seq: number;
  place: number;
  bytes: number;
  event: AuditEvent;
}

const before = (a: Line, b: Line): boolean =>
  a.at !== b.at ? a.at < b.at : a.seq !== b.seq ? a.seq < b.seq : a.place < b.place;

/**
 * What a download returns of the chunks it reads: the lines timed fromIso..toIso (inclusive),
 * in time order, the oldest whose UTF-8 sizes add up to at most maxBytes (a line that does not
 * fit ends the answer, as a smaller one after it would leave a gap).
 *
 * Chunks come in (firstAt, seq) order; chunks of several API nodes overlap in time. A line
 * earlier than the next chunk's firstAt is final (no later chunk holds an earlier one) and
 * joins the answer; the rest wait, trimmed to what is left of the budget. Once a line has been
 * turned away, a chunk starting after it cannot add anything: take() says so, and the reader
 * stops there rather than reading the rest of the trail.
 */
export class AuditWindow {
  private readonly answer: AuditEvent[] = [];
  private answerBytes = 0;
  /** Lines not yet final, in order, which fit after the answer. */
  private waiting: Line[] = [];
  /** The first line turned away: it, and every line ordered after it, never fits. */
  private cut: Line | undefined;

  constructor(private readonly fromIso: string, private readonly toIso: string, private readonly maxBytes: number) {}

  /** Takes the next chunk; false when it, and so every later chunk, cannot add to the answer. */
  take(chunk: { firstAt: string; seq: number; lines: string }): boolean {
    if (this.cut && chunk.firstAt > this.cut.at) return false;
    this.settleBefore(chunk.firstAt);
    const lines = this.linesOf(chunk);
    if (lines.length > 0) this.waiting = this.fitting(merge(this.waiting, lines));
    return true;
  }

  /** The answer, once every chunk that may add to it has been taken. */
  events(): AuditEvent[] {
    for (const line of this.waiting) this.answer.push(line.event);
    this.waiting = [];
    return this.answer;
  }

  private settleBefore(at: string): void {
    let settled = 0;
    for (; settled < this.waiting.length && this.waiting[settled]!.at < at; settled++) {
      const line = this.waiting[settled]!;
      this.answer.push(line.event);
      this.answerBytes += line.bytes;
    }
    if (settled > 0) this.waiting = this.waiting.slice(settled);
  }

  /** The chunk's lines in the window and ahead of the cut, in order. */
  private linesOf(chunk: { seq: number; lines: string }): Line[] {
    const lines: Line[] = [];
    let sorted = true;
    chunk.lines.split('\n').forEach((text, place) => {
      const event = JSON.parse(text) as AuditEvent;
      if (event.at < this.fromIso || event.at > this.toIso) return;
      const line = { at: event.at, seq: chunk.seq, place, bytes: Buffer.byteLength(text), event };
      if (this.cut && !before(line, this.cut)) return;
      if (lines.length > 0 && line.at < lines.at(-1)!.at) sorted = false;
      lines.push(line);
    });
    // Recorded in completion order, a chunk's lines are nearly always in time order already.
    if (!sorted) lines.sort((a, b) => (before(a, b) ? -1 : 1));
    return lines;
  }

  /** The longest start of lines that fits after the answer; what follows is turned away. */
  private fitting(lines: Line[]): Line[] {
    let bytes = this.answerBytes;
    for (let i = 0; i < lines.length; i++) {
      bytes += lines[i]!.bytes;
      if (bytes > this.maxBytes) {
        this.cut = lines[i];
        return lines.slice(0, i);
      }
    }
    return lines;
  }
}

function merge(a: Line[], b: Line[]): Line[] {
  if (a.length === 0) return b;
  const out: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(before(b[j]!, a[i]!) ? b[j++]! : a[i++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
