// A message value read as a document: Extended JSON, relaxed. bson's EJSON.parse revives every
// value through a JS callback (to find `$date`, `$oid`, ... and keys with NUL), several times
// the cost of JSON.parse. Text with neither a `$` nor an escaped `$` or NUL holds no Extended
// JSON type and no such key, so JSON.parse reads it to the same document.
import { EJSON } from 'bson';
import type { Doc, Value } from '../expressions/values.js';

/** Text EJSON.parse could read differently from JSON.parse: a `$`, or `\u0024` / `\u0000` escapes. */
const MAYBE_EXTENDED = /\$|\\u00(?:24|00)/;

/** The document a JSON or Extended JSON message value holds; throws when it is not a document. */
export function parseJsonDocument(text: string): Doc {
  const parsed: Value = MAYBE_EXTENDED.test(text) ? EJSON.parse(text, { relaxed: true }) : JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a document');
  return parsed as Doc;
}
