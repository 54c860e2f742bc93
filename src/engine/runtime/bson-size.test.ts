import { describe, expect, it } from 'vitest';
import { BSON, ObjectId, Decimal128 } from 'bson';
import { bsonSize } from './bson-size.js';

describe('bsonSize', () => {
  it('matches bson for the values documents carry', () => {
    const docs = [
      {},
      { a: 1, b: 2.5, c: -2147483649, d: 'héllo', e: true, f: null, g: new Date(), h: { i: [1, 'x', { j: 2 }, [], null] } },
      { _id: new ObjectId(), n: Decimal128.fromString('1.5'), list: Array.from({ length: 12 }, (_, i) => i), u: undefined },
    ];
    for (const doc of docs) expect(bsonSize(doc)).toBe(BSON.calculateObjectSize(doc));
  });
});

describe('sample source sizes', () => {
  it('reports the BSON size of every reading', async () => {
    const { SampleSolarSource } = await import('../sources/sample-solar.js');
    const { createStamper } = await import('../sources/source.js');
    const { stamp, tsField } = createStamper({});
    const source = new SampleSolarSource({ stamp, tsField, deadLetter() {}, fail() {}, log: { info() {}, warn() {}, error() {} } }, { seed: 3, ratePerSecond: 0 });
    const batch = await new Promise<{ docs: Record<string, unknown>[]; bytes: number | undefined }>((resolve) => {
      void source.start(async (docs, read) => { resolve({ docs, bytes: read?.bytes }); void source.stop(); });
    });
    expect(batch.bytes).toBe(batch.docs.reduce((sum, doc) => sum + BSON.calculateObjectSize(doc), 0));
  });
});
