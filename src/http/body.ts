// Reading a request body, bounded: the API and the emulator's own routes share it.
// A body is refused as early as possible: by its Content-Length before a byte is read, as
// soon as it passes the size limit or (for JSON) the nesting limit while it streams in. A
// refused body is not parsed any further: the answer carries `Connection: close`, and the
// connection closes once the client stops sending (lingering-close.ts).
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';
import type { JsonBody } from './json-body.js';
import { lingerOnClose } from './lingering-close.js';

/**
 * Atlas refuses a stream processor pipeline definition over 16 MB (Atlas Stream Processing
 * limitations); the rest of a request (name, options, envelope) gets 1 MiB more.
 */
export const MAX_BODY_BYTES = 17 * 1024 * 1024;
/**
 * Every other body (a project, a key, a connection, an instance) is a few kilobytes. Parsing
 * 17 MiB holds the event loop for hundreds of milliseconds, so only the operations that
 * carry a pipeline may send that much.
 */
export const MAX_OTHER_BODY_BYTES = 1024 * 1024;
const PIPELINE_OPERATIONS = new Set(['createStreamProcessor', 'updateStreamProcessor']);

export function bodyLimitOf(operationId: string): number {
  return PIPELINE_OPERATIONS.has(operationId) ? MAX_BODY_BYTES : MAX_OTHER_BODY_BYTES;
}

export interface BodyLimits {
  maxBytes: number;
  /**
   * Follow (and, when large, parse) the JSON as it is read, refusing it as soon as it fails.
   * Once it parses as it goes, the body's bytes are not kept: readBody answers none.
   */
  json?: JsonBody;
}

/** The client went away before its body was complete: nobody is left to answer, and nothing went wrong here. */
export class ClientGone extends Error {
  constructor() {
    super('client disconnected before the request body was complete');
  }
}

/**
 * A body parsed as it arrives is read in slices of about this long: the socket hands over
 * whatever chunks are waiting (up to 2 MiB per read of a busy socket) one after another, so
 * its reads are paused for a turn of the event loop once a slice has run this long.
 */
const PARSE_SLICE_MS = 8;

function tooLarge(maxBytes: number): ApiError {
  return new ApiError('BODY_TOO_LARGE', [maxBytes], undefined, { Connection: 'close' });
}

/** A refusal of the body before it is all read: its connection lingers as it closes. */
function refusal(req: IncomingMessage, error: ApiError): ApiError {
  lingerOnClose(req);
  return error;
}

export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes, json } = limits;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(refusal(req, tooLarge(maxBytes)));
  if (req.destroyed) return Promise.reject(new ClientGone());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let sliceStart = performance.now();
    let finished = false;
    const finish = (error?: Error) => {
      finished = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      // A refused body's rest is read (and dropped) while the refusal is answered.
      if (req.isPaused()) req.resume();
      if (error) reject(error);
      // A body parsed as it came has its value already: copying 17 MiB into one buffer held the event loop for 70 ms and more.
      else resolve(json?.parsing ? Buffer.alloc(0) : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish(refusal(req, tooLarge(maxBytes)));
      try {
        json?.feed(chunk);
      } catch (error) {
        return finish(error instanceof ApiError ? refusal(req, error) : error as Error);
      }
      if (!json?.parsing) {
        chunks.push(chunk);
        return;
      }
      if (performance.now() - sliceStart <= PARSE_SLICE_MS) return;
      req.pause();
      setImmediate(() => {
        sliceStart = performance.now();
        if (!finished) req.resume();
      });
    };
    const onEnd = () => finish();
    // 'error' (aborted) or 'close' before 'end': the client disconnected mid-body.
    const onGone = () => finish(new ClientGone());
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}
