import { describe, expect, it } from 'vitest';
import { FrameReader } from './frame-reader.js';

function frame(length: number, requestId: number, fill = 0): Buffer {
  const b = Buffer.alloc(length, fill);
  b.writeInt32LE(length, 0);
  b.writeInt32LE(requestId, 4);
  b.writeInt32LE(2013, 12);
  return b;
}

describe('FrameReader', () => {
  it('cuts frames however the bytes arrive', () => {
    const reader = new FrameReader(1000);
    const bytes = Buffer.concat([frame(20, 1), frame(30, 2), frame(16, 3)]);
    const events = [];
    for (let i = 0; i < bytes.length; i += 7) events.push(...reader.push(bytes.subarray(i, i + 7)));
    expect(events.map((e) => (e.kind === 'frame' ? e.frame.readInt32LE(4) : e.kind))).toEqual([1, 2, 3]);
  });

  it('skips an oversized frame as it arrives and reports it once it has gone by', () => {
    const reader = new FrameReader(100);
    expect(reader.push(frame(250, 9).subarray(0, 120))).toEqual([]);
    const events = reader.push(Buffer.concat([frame(250, 9).subarray(120), frame(20, 10)]));
    expect(events.map((e) => e.kind)).toEqual(['oversized', 'frame']);
    expect(events[0]).toMatchObject({ length: 250, requestId: 9 });
  });

  it('gives up on a length below the header size', () => {
    const reader = new FrameReader(100);
    const bad = Buffer.alloc(16);
    bad.writeInt32LE(4, 0);
    expect(reader.push(bad).map((e) => e.kind)).toEqual(['fatal']);
    expect(reader.push(frame(20, 1))).toEqual([]);
  });
});
