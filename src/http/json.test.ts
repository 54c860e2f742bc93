import { describe, expect, it } from 'vitest';
import { canonical, compactJson, keepOrder } from './json.js';

describe('compactJson', () => {
  it('writes what JSON.stringify writes of the sorted copy, keeping caller-ordered documents as written', () => {
    const pipeline = keepOrder([{ $source: { z: 1, a: 2 } }, { $match: { b: 1, a: null } }]);
    const doc = {
      name: 'x', id: 'abc', nested: { z: [3, undefined, () => 1, { y: 1, b: 'é"\n' }], a: undefined, m: NaN, n: -0.5e-7 },
      pipeline, flag: false, none: null, empty: {}, list: [], fn: () => 1, big: 1e21,
    };
    expect(compactJson(doc)).toBe(JSON.stringify(canonical(doc)));
    expect(compactJson(doc)).toContain('"pipeline":[{"$source":{"z":1,"a":2}},{"$match":{"b":1,"a":null}}]');
    expect(compactJson([1, 'a', null])).toBe('[1,"a",null]');
    expect(compactJson('text')).toBe('"text"');
  });
});
