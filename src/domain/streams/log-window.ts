// The time window of a log download (audit and operational logs alike): startDate and
// endDate in epoch seconds, by default the last 30 days, never before the workspace existed.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import type { StoredInstance } from './common.js';

const DEFAULT_WINDOW_SECONDS = 30 * 24 * 3600;
/**
 * A download holds at most this much text: the oldest lines of the window that fit. The trail
 * grows with every call, and all of a download is built in memory on the API thread; a caller
 * who needs more asks again from the time of the last line.
 */
export const MAX_LOG_DOWNLOAD_BYTES = 16 * 1024 * 1024;
const gzipAsync = promisify(gzip);
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

/** JSON lines, at most MAX_LOG_DOWNLOAD_BYTES of them, gzipped off the event loop, as a download with Atlas's headers. */
export async function gzipDownload(ctx: RequestContext, lines: unknown[], filename: string): Promise<{ raw: { data: Buffer; headers: Record<string, string> } }> {
  const kept: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const text = `${JSON.stringify(line)}\n`;
    bytes += Buffer.byteLength(text);
    if (bytes > MAX_LOG_DOWNLOAD_BYTES) break;
    kept.push(text);
  }
  return {
    raw: {
      data: await gzipAsync(Buffer.from(kept.join(''), 'utf8')),
      headers: {
        'Content-Type': `application/vnd.atlas.${ctx.version}+gzip`,
        'Content-Disposition': `attachment; filename="${filename}"`,
      },
    },
  };
}
