import { describe, expect, it } from 'vitest';
import { EJSON } from 'bson';
import { parseJsonDocument } from './json-message.js';

describe('JSON message values', () => {
  it('reads what EJSON.parse reads, relaxed', () => {
    const texts = [
      '{"id": 1, "device": "d1", "watts": 2.5, "at": "2026-01-01T00:00:00Z", "list": [1, {"a": null}], "big": 12345678901234567890}',
      '{"at": {"$date": "2026-01-01T00:00:00Z"}, "n": {"$numberLong": "5"}, "id": {"$oid": "656565656565656565656565"}}',
      '{"\\u0024date": "2026-01-01T00:00:00Z"}',
      '{"a": {"\\u0024numberInt": "7"}}',
      '{"__proto__": {"x": 1}, "s": "\\u00e9"}',
      '{"u": {"$undefined": true}}',
    ];
    for (const text of texts) expect(parseJsonDocument(text)).toEqual(EJSON.parse(text, { relaxed: true }));
  });

  it('refuses what EJSON.parse refuses, and values that are not documents', () => {
    expect(() => parseJsonDocument('{"a\\u0000b": 1}')).toThrow(/null bytes/);
    for (const text of ['', 'not json', '[1]', '1', 'null', '"x"']) expect(() => parseJsonDocument(text)).toThrow();
  });
});
