export const LATE_REASON = 'Input document arrived late.';
export const NO_EVENT_TIME_REASON = 'Input document has no event time: the time field is not a date.';

/** Puts the window bounds on an output document, keeping what the source stamped. */
export function withWindowMeta(doc: Record<string, unknown>, start: number, end: number): Record<string, unknown> {
  const meta = (doc['_stream_meta'] as Record<string, unknown> | undefined) ?? {};
  return { ...doc, _stream_meta: { ...meta, window: { start: new Date(start), end: new Date(end) } } };
}
