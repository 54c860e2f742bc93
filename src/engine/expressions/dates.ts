// $dateFromString / $toDate parsing. MongoDB reads ISO-8601 with "Z" or "+hh:mm" offsets
// and treats a string without an offset as UTC; JavaScript would read it as local time.
const HAS_TIME_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function parseDateString(input: string, timezone?: string): Date {
  const s = input.trim();
  let normalized = s;
  if (HAS_TIME_WITHOUT_ZONE.test(s)) normalized = `${s.replace(' ', 'T')}${zoneSuffix(timezone)}`;
  else if (DATE_ONLY.test(s)) normalized = `${s}T00:00:00${zoneSuffix(timezone)}`;
  const ms = Date.parse(normalized);
  if (Number.isNaN(ms)) throw new Error(`Error parsing date string '${input}'`);
  return new Date(ms);
}

function zoneSuffix(timezone: string | undefined): string {
  if (timezone === undefined || timezone === 'UTC' || timezone === 'GMT') return 'Z';
  if (/^[+-]\d{2}:?\d{2}$/.test(timezone)) return timezone;
  throw new Error(`unsupported timezone '${timezone}' (use UTC or an offset such as +02:00)`);
}

/** $toDate semantics: dates pass through, numbers are epoch millis, strings are parsed. */
export function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v);
  if (typeof v === 'bigint') return new Date(Number(v));
  if (typeof v === 'string') return parseDateString(v);
  const objectId = v as { getTimestamp?: () => Date };
  if (typeof objectId.getTimestamp === 'function') return objectId.getTimestamp();
  throw new Error(`can't convert from BSON type ${typeof v} to Date`);
}
