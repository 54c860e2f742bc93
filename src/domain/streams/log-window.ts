// The time window of a log download (audit and operational logs alike): startDate and
// endDate in epoch seconds, by default the last 30 days, never before the workspace existed.
import { gzipSync } from 'node:zlib';
import type { RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import type { StoredInstance } from './common.js';

const DEFAULT_WINDOW_SECONDS = 30 * 24 * 3600;
/** 9999-12-31T23:59:59.999Z: the last instant with a four-digit ISO year, so stored timestamps still compare as text. */
const LAST_MS = 253402300799999;

/**
 * The caller's bounds are any int64 seconds, far outside what a Date can hold; every entry
 * lies between 1970 and 9999, so the range is cut to that before it becomes text.
 */
function isoOfMs(ms: number): string {
  return new Date(Math.min(Math.max(ms, 0), LAST_MS)).toISOString();
}

export interface LogWindow {
  /** As the caller gave them (or defaulted), for the file name. */
  start: number;
  end: number;
  /** ISO bounds for the store, both inclusive. */
  fromIso: string;
  toIso: string;
}

export function logWindow(ctx: RequestContext, instance: StoredInstance): LogWindow {
  const nowSeconds = Math.floor(ctx.services.now().getTime() / 1000);
  const end = (ctx.query['endDate'] as number | undefined) ?? nowSeconds;
  const start = (ctx.query['startDate'] as number | undefined) ?? end - DEFAULT_WINDOW_SECONDS;
  if (start > end) throw new ApiError('INVALID_QUERY_PARAMETER', ['startDate']);
  return {
    start, end,
    // A workspace made again under an old name does not inherit its predecessor's entries.
    fromIso: isoOfMs(Math.max(start * 1000, Date.parse(instance.createdAt))),
    // End is inclusive to the second.
    toIso: isoOfMs(end * 1000 + 999),
  };
}

/** JSON lines, gzipped, as a download with Atlas's headers. */
export function gzipDownload(ctx: RequestContext, lines: unknown[], filename: string): { raw: { data: Buffer; headers: Record<string, string> } } {
  const text = lines.map((e) => JSON.stringify(e)).join('\n') + (lines.length ? '\n' : '');
  return {
    raw: {
      data: gzipSync(Buffer.from(text, 'utf8')),
      headers: {
        'Content-Type': `application/vnd.atlas.${ctx.version}+gzip`,
        'Content-Disposition': `attachment; filename="${filename}"`,
      },
    },
  };
}
