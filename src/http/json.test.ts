import { describe, expect, it } from 'vitest';
import { canonical, compactJson, compactJsonParts, keepOrder, prettyJson, prettyJsonParts, RawJson } from './json.js';

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

describe('RawJson', () => {
  it('is spliced in as its bytes, between the text around it, as the parsed value would be written', () => {
    const pipelines = [[{ $source: { z: 1, a: 'é\u0000"' } }], [{ $match: { b: [1, 2] } }]];
    const raw = (value: unknown) => new RawJson(Buffer.from(JSON.stringify(value)));
    const doc = { results: pipelines.map((pipeline, i) => ({ pipeline: raw(pipeline), name: `p${i}` })), totalCount: 2 };
    const expected = { results: pipelines.map((pipeline, i) => ({ pipeline: keepOrder(pipeline), name: `p${i}` })), totalCount: 2 };
    const parts = compactJsonParts(doc);
    expect(parts.filter((part) => part instanceof Uint8Array)).toHaveLength(2);
    expect(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))).toString()).toBe(compactJson(expected));
    expect(compactJson(doc)).toBe(compactJson(expected));
    expect(prettyJson(doc)).toBe(prettyJson(expected));
  });
});

describe('prettyJsonParts', () => {
  it('writes what prettyJson writes, a large stored pipeline included, in pieces', async () => {
    const pipeline = [{ $source: { connectionName: 'c' } }, { $match: { k: { $in: Array.from({ length: 20_000 }, (_, i) => `é-${i}-"x"`) } } }, { $emit: {} }];
    const bytes = Buffer.from(JSON.stringify(pipeline));
    const doc = { results: [{ pipeline: new RawJson(bytes), name: 'p', empty: [], none: {} }], totalCount: 1 };
    const parts = await prettyJsonParts(doc);
    expect(parts.length).toBeGreaterThan(2);
    expect(Buffer.concat(parts).toString('utf8')).toBe(prettyJson({ results: [{ pipeline: keepOrder(pipeline), name: 'p', empty: [], none: {} }], totalCount: 1 }));
    expect(Buffer.concat(await prettyJsonParts({ b: 1, a: [] })).toString('utf8')).toBe('{\n  "a" : [ ],\n  "b" : 1\n}');
  });
});
