// How a batch becomes chunks, and how a download picks its lines out of chunks read in
// (firstAt, seq) order: the part of the audit trail both stores share.
import { describe, expect, it } from 'vitest';
import { AuditWindow, chunkReadFrom, chunksOf } from './audit-chunks.js';
import type { AuditEvent } from './store.js';

const at = (second: number): string => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
const event = (second: number, n: number | string = second): AuditEvent => ({ at: at(second), n });
const chunk = (seq: number, ...events: AuditEvent[]) => {
  const [built] = chunksOf(events.map((e) => ({ scopeId: 's', event: e })));
  return { ...built!, seq };
};
const bytes = (...events: AuditEvent[]): number => events.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);
const FROM = at(0);
const TO = at(59);

/** What a reader gets from these chunks, sorted as the stores read them, and how many it read. */
function read(chunks: Array<ReturnType<typeof chunk>>, maxBytes = Number.MAX_SAFE_INTEGER, from = FROM, to = TO) {
  const window = new AuditWindow(from, to, maxBytes);
  const ordered = [...chunks].sort((a, b) => (a.firstAt !== b.firstAt ? (a.firstAt < b.firstAt ? -1 : 1) : a.seq - b.seq));
  let read = 0;
  for (const c of ordered) {
    if (!window.take(c)) break;
    read++;
  }
  return { events: window.events().map((e) => e['n']), read };
}

describe('chunksOf', () => {
  it('makes one chunk per scope and minute, its lines in recorded order, spanning their earliest and latest time', () => {
    const chunks = chunksOf([
      { scopeId: 'a', event: event(5, 'a5') },
      { scopeId: 'b', event: { at: '2026-01-01T00:00:59.000Z', n: 'é' } },
      { scopeId: 'a', event: event(2, 'a2') },
      { scopeId: 'b', event: { at: '2026-01-01T00:01:00.000Z', n: 'next minute' } },
      { scopeId: 'a', event: event(7, 'a7') },
    ]);
    expect(chunks).toEqual([
      { scopeId: 'a', firstAt: at(2), lastAt: at(7), lines: [event(5, 'a5'), event(2, 'a2'), event(7, 'a7')].map((e) => JSON.stringify(e)).join('\n') },
      { scopeId: 'b', firstAt: at(59), lastAt: at(59), lines: JSON.stringify({ at: '2026-01-01T00:00:59.000Z', n: 'é' }) },
      { scopeId: 'b', firstAt: '2026-01-01T00:01:00.000Z', lastAt: '2026-01-01T00:01:00.000Z', lines: JSON.stringify({ at: '2026-01-01T00:01:00.000Z', n: 'next minute' }) },
    ]);
  });

  it('keeps a line break inside a value escaped, so that a line is always one event', () => {
    const [only] = chunksOf([{ scopeId: 's', event: { at: at(1), path: 'a\nb' } }, { scopeId: 's', event: event(2) }]);
    expect(only!.lines.split('\n').map((line) => JSON.parse(line))).toEqual([{ at: at(1), path: 'a\nb' }, event(2)]);
  });

  it('a chunk reaching into a window starts no earlier than the window start\'s minute', () => {
    expect(chunkReadFrom('2026-01-01T00:01:30.250Z')).toBe('2026-01-01T00:01');
    const [spanning] = chunksOf([{ scopeId: 's', event: { at: '2026-01-01T00:01:10.000Z' } }, { scopeId: 's', event: { at: '2026-01-01T00:01:40.000Z' } }]);
    expect(spanning!.firstAt >= chunkReadFrom('2026-01-01T00:01:30.250Z')).toBe(true);
  });
});

describe('AuditWindow', () => {
  it('returns the lines of chunks that overlap in time (several API nodes) in time order, then write order', () => {
    const nodeA = chunk(1, event(1, 'A1'), event(5, 'A5'), event(3, 'A3'));
    const nodeB = chunk(2, event(2, 'B2'), event(3, 'B3'), event(4, 'B4'));
    const nodeC = chunk(3, event(3, 'C3'), event(9, 'C9'));
    expect(read([nodeC, nodeB, nodeA]).events).toEqual(['A1', 'B2', 'A3', 'B3', 'C3', 'B4', 'A5', 'C9']);
  });

  it('keeps only lines inside the window, both ends included', () => {
    const c = chunk(1, event(1), event(2), event(3), event(4));
    expect(read([c], Number.MAX_SAFE_INTEGER, at(2), at(3)).events).toEqual([2, 3]);
  });

  it('returns the oldest lines whose sizes fit the budget, across chunks, and nothing after the first that does not fit', () => {
    const first = chunk(1, event(1), event(2));
    const second = chunk(2, event(3), event(4, 'a much longer line than the others'), event(5));
    const third = chunk(3, event(6));
    const budget = bytes(event(1), event(2), event(3)) + 10;
    // 4 does not fit; 5 and 6 would, but the answer has no gaps.
    expect(read([first, second, third], budget)).toEqual({ events: [1, 2, 3], read: 2 });
    expect(read([first, second, third], bytes(event(1), event(2), event(3))).events).toEqual([1, 2, 3]);
    expect(read([first, second, third], bytes(event(1)) - 1).events).toEqual([]);
  });

  it('counts a line\'s UTF-8 bytes', () => {
    const wide = { at: at(1), n: 'éé' };
    expect(read([chunk(1, wide, event(2))], Buffer.byteLength(JSON.stringify(wide))).events).toEqual(['éé']);
    expect(read([chunk(1, wide, event(2))], JSON.stringify(wide).length).events).toEqual([]);
  });

  it('lets a later chunk holding earlier lines push a line out of the budget', () => {
    const wide = chunk(1, event(1, 'A1'), event(9, 'A9'));
    const inside = chunk(2, event(2, 'B2'));
    expect(read([wide, inside], bytes(event(1, 'A1'), event(2, 'B2'))).events).toEqual(['A1', 'B2']);
  });

  it('stops reading at the first chunk that starts after a line the budget turned away', () => {
    const chunks = [chunk(1, event(1), event(2)), chunk(2, event(3)), chunk(3, event(4)), chunk(4, event(5))];
    expect(read(chunks, bytes(event(1), event(2)))).toEqual({ events: [1, 2], read: 2 });
  });

  it('still reads a chunk starting at the very time of the line turned away: it may hold lines written before it', () => {
    const late = chunk(7, event(1, 'late1'), event(3, 'late3'));
    const early = chunk(2, event(3, 'e3'));
    // Read order: late (firstAt 1), whose late3 does not fit after late1; then early (firstAt 3),
    // whose e3, written before late3 (seq 2 < 7), comes before it and fits.
    expect(read([late, early], bytes(event(1, 'late1'), event(3, 'e3')))).toEqual({ events: ['late1', 'e3'], read: 2 });
  });
});
