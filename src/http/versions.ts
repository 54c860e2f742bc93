// Versioned media types (docs/atlas-behaviour.md, "Versions"): the caller names a date; the server serves the
// latest version of the operation on or before it.
import { ApiError } from './errors.js';

const VERSIONED = /^application\/vnd\.atlas\.(\d{4})-(\d{2})-(\d{2})\+(json|gzip|csv)$/;

export interface NegotiatedVersion {
  version: string;
  contentType: string;
}

/**
 * The emulator's addition to Atlas's 406: the body stays Atlas's word for word (clients and
 * tests match it), and this header names the media types the operation serves, so a person
 * reading the answer learns which Accept to send (docs/differences-from-atlas.md).
 */
export const SUPPORTED_VERSIONS_HEADER = 'X-Emulator-Supported-Versions';

function unsupportedVersion(versions: readonly string[], format: string): ApiError {
  const mediaTypes = versions.map((version) => `application/vnd.atlas.${version}+${format}`).join(', ');
  return new ApiError('INVALID_VERSION_DATE', [], undefined, { [SUPPORTED_VERSIONS_HEADER]: mediaTypes });
}

/** Answers already given, by an operation's versions, its format and the Accept header (clients repeat the same few). */
const negotiated = new WeakMap<readonly string[], Map<string, Map<string, NegotiatedVersion>>>();

/** Picks the served version from the Accept header, or throws 406 INVALID_VERSION_DATE naming the versions served. */
export function negotiateVersion(accept: string | undefined, versions: readonly string[], format: string): NegotiatedVersion {
  let byFormat = negotiated.get(versions);
  if (!byFormat) negotiated.set(versions, (byFormat = new Map()));
  let byAccept = byFormat.get(format);
  if (!byAccept) byFormat.set(format, (byAccept = new Map()));
  const known = accept === undefined ? undefined : byAccept.get(accept);
  if (known) return known;
  const answer = Object.freeze(negotiate(accept, versions, format));
  if (accept !== undefined && byAccept.size < 100) byAccept.set(accept, answer);
  return answer;
}

function negotiate(accept: string | undefined, versions: readonly string[], format: string): NegotiatedVersion {
  const requested = accept ? parseRequestedDate(accept, format) : undefined;
  if (requested === undefined) throw unsupportedVersion(versions, format);
  let served: string | undefined;
  for (const version of versions) if (version <= requested) served = version;
  if (served === undefined) throw unsupportedVersion(versions, format);
  return { version: served, contentType: contentTypeOf(served, format) };
}

export function contentTypeOf(version: string, format: string): string {
  return format === 'json' ? `application/vnd.atlas.${version}+json;charset=utf-8` : `application/vnd.atlas.${version}+${format}`;
}

/** The date from the first versioned media type of the right format in Accept. */
function parseRequestedDate(accept: string, format: string): string | undefined {
  for (const part of accept.split(',')) {
    const mediaType = part.split(';')[0]!.trim().toLowerCase();
    const m = VERSIONED.exec(mediaType);
    if (!m || m[4] !== format) continue;
    const [, y, mo, d] = m;
    const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    // Reject impossible dates such as 2023-02-30 rather than rolling them over.
    if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return undefined;
    return `${y}-${mo}-${d}`;
  }
  return undefined;
}

/** Request bodies come as application/json (curl, docs, MCP server) or the exact vnd type (Go SDK). */
export function isJsonBodyType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/vnd\.atlas\.\d{4}-\d{2}-\d{2}\+json$/.test(mediaType);
}
