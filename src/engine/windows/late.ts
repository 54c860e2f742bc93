export const LATE_REASON = 'Input document arrived late.';
export const NO_EVENT_TIME_REASON = 'Input document has no event time: the time field is not a date.';

type Meta = Record<string, unknown>;

/**
 * Puts the window bounds on an output document. A document that kept its own
 * `_stream_meta` (no $group in the window) keeps its source metadata; an aggregate gets
 * the source's type, as Atlas shows `_stream_meta: {source: {type}, window: {...}}`.
 */
export function withWindowMeta(doc: Meta, window: Meta, sourceType: string | undefined): Meta {
  const meta = doc['_stream_meta'] as Meta | undefined;
  const source = meta?.['source'] ?? (sourceType === undefined ? undefined : { type: sourceType });
  return { ...doc, _stream_meta: { ...meta, ...(source === undefined ? {} : { source }), window } };
}

/** The source type stamped on a document, if any. */
export function sourceTypeOf(doc: Meta): string | undefined {
  const source = (doc['_stream_meta'] as Meta | undefined)?.['source'] as Meta | undefined;
  return typeof source?.['type'] === 'string' ? source['type'] : undefined;
}

/** A copy of `doc` whose `_stream_meta.window` is set, for window pipelines that read it. */
export function withOpenWindow(doc: Meta, start: number, end: number): Meta {
  const meta = doc['_stream_meta'] as Meta | undefined;
  return { ...doc, _stream_meta: { ...meta, window: { start: new Date(start), end: new Date(end) } } };
}
