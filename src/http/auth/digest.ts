// HTTP Digest (RFC 7616) as Atlas speaks it for programmatic API keys (docs/atlas-behaviour.md, "Authentication").
// Nonces: digest-nonce.ts. Replays are refused by recording each (nonce, nc) once
// (src/store/replay-ledger.ts).
import { hash, randomBytes } from 'node:crypto';

export const DIGEST_REALM = 'MMS Public API';
export type DigestAlgorithm = 'MD5' | 'SHA-256';

const HASHES: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return hash(HASHES[algorithm], text, 'hex');
}

/** HA1 for each algorithm: what the store keeps instead of the private key. */
export function digestHa1(publicKey: string, privateKey: string): { md5: string; sha256: string } {
  const a1 = `${publicKey}:${DIGEST_REALM}:${privateKey}`;
  return { md5: digestHash('MD5', a1), sha256: digestHash('SHA-256', a1) };
}

export function challengeHeader(nonce: string, stale: boolean): string {
  return `Digest realm="${DIGEST_REALM}", domain="", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`;
}

/** The body Atlas sends with the challenge: Jackson-pretty, in this key order. */
export const CHALLENGE_BODY = '{\n  "error" : 401,\n  "reason" : "Unauthorized",\n  "detail" : "You are not authorized for this resource.",\n  "errorCode" : "UNEXPECTED_ERROR"\n}';

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce: string;
  nc: string;
  qop: string;
}

const SCHEME = /^Digest\s+/i;
/** Parses `Digest k=v, k="v"`; undefined when it is not such a list, or a field Atlas requires is missing. */
export function parseDigestAuthorization(header: string): DigestCredentials | undefined {
  const scheme = SCHEME.exec(header);
  if (!scheme) return undefined;
  const fields = readFields(header, scheme[0].length);
  if (!fields) return undefined;
  const algorithm = (fields.algorithm ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5' && algorithm !== 'SHA-256') return undefined;
  const { username, realm, nonce, uri, response, cnonce, nc, qop } = fields;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined
    || cnonce === undefined || nc === undefined || qop === undefined) return undefined;
  return { username, realm, nonce, uri, response, algorithm, cnonce, nc, qop };
}

/** The fields Atlas reads, by name; others (opaque, userhash...) are read past. */
type Fields = { -readonly [name in keyof DigestCredentials]?: string };

/**
 * Fixed fields, not an object keyed by whatever names came: stores under names read off the
 * header are the slow kind, and a name such as `__proto__` would reach the object's prototype.
 */
function setField(fields: Fields, name: string, value: string): void {
  switch (name) {
    case 'username': fields.username = value; break;
    case 'realm': fields.realm = value; break;
    case 'nonce': fields.nonce = value; break;
    case 'uri': fields.uri = value; break;
    case 'response': fields.response = value; break;
    case 'algorithm': fields.algorithm = value; break;
    case 'cnonce': fields.cnonce = value; break;
    case 'nc': fields.nc = value; break;
    case 'qop': fields.qop = value; break;
    default:
  }
}

const COMMA = 44;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;

/**
 * RFC 7616's auth-param list: `name=token` or `name="quoted string"`, separated by commas
 * (empty elements allowed), names case-insensitive. Read by hand, not by a regular
 * expression: every Digest call parses one, and the scan costs a fraction of a regex's.
 */
function readFields(header: string, from: number): Fields | undefined {
  const fields: Fields = {};
  let at = skipSeparators(header, from);
  while (at < header.length) {
    const nameStart = at;
    while (at < header.length && isNameChar(header.charCodeAt(at))) at++;
    if (at === nameStart) return undefined;
    const name = header.slice(nameStart, at).toLowerCase();
    at = skipSpace(header, at);
    if (header.charCodeAt(at) !== EQUALS) return undefined;
    at = skipSpace(header, at + 1);
    if (header.charCodeAt(at) === QUOTE) {
      const close = closingQuote(header, at + 1);
      if (close < 0) return undefined;
      const quoted = header.slice(at + 1, close);
      setField(fields, name, quoted.includes('\\') ? quoted.replace(/\\(.)/g, '$1') : quoted);
      at = close + 1;
    } else {
      const valueStart = at;
      while (at < header.length && header.charCodeAt(at) !== COMMA && !isSpace(header.charCodeAt(at))) at++;
      setField(fields, name, header.slice(valueStart, at));
    }
    at = skipSpace(header, at);
    if (at < header.length && header.charCodeAt(at) !== COMMA) return undefined;
    at = skipSeparators(header, at);
  }
  return fields;
}

/** The index of the quote that ends a quoted string begun at from; -1 when it never ends. */
function closingQuote(header: string, from: number): number {
  // indexOf, not a loop over every character: a quoted value (nonce, uri, response) is most of the header.
  for (let at = from; ;) {
    const quote = header.indexOf('"', at);
    if (quote < 0) return -1;
    // Escaped when an odd number of backslashes stands before it (each pair is one escaped backslash).
    let backslashes = 0;
    while (quote - backslashes > from && header.charCodeAt(quote - backslashes - 1) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

function skipSpace(header: string, at: number): number {
  while (at < header.length && isSpace(header.charCodeAt(at))) at++;
  return at;
}

function skipSeparators(header: string, at: number): number {
  while (at < header.length && (header.charCodeAt(at) === COMMA || isSpace(header.charCodeAt(at)))) at++;
  return at;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Letters, digits, "_" and "-": the names Digest uses (RFC 7230's token allows more, but no Digest field has them). */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** The credentials' uri names the request target: as sent, or as an absolute URL of it. */
export function digestUriMatches(uri: string, requestTarget: string): boolean {
  if (uri === requestTarget) return true;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(uri);
  return absolute !== null && (absolute[1] ?? '/') === requestTarget;
}

/** Recomputes the response from the stored HA1 and compares in constant time. */
export function verifyDigestResponse(credentials: DigestCredentials, method: string, ha1: string): boolean {
  const { algorithm, nonce, nc, cnonce, qop, uri, response } = credentials;
  if (qop !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(nc)) return false;
  const ha2 = requestHash(algorithm, method, uri);
  // Hex out, not a Buffer: a one-shot hash into a Buffer costs nearly twice as much.
  return sameHex(hash(HASHES[algorithm], `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`, 'hex'), response);
}

/**
 * The expected lower-case hex against the given one in either case, in time that depends on
 * the expected value only through its length (the branch is on the caller's own characters).
 */
function sameHex(expected: string, given: string): boolean {
  if (given.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) {
    const c = given.charCodeAt(i);
    difference |= (c >= 65 && c <= 70 ? c + 32 : c) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}

const requestHashes = new Map<string, string>();
/** Calls to answer, beyond which the remembered HA2s are forgotten (a client naming ever new targets gains nothing). */
const REMEMBERED_REQUEST_HASHES = 1024;

/** HA2, the hash of method and target: the same for every call to one target, so remembered. */
function requestHash(algorithm: DigestAlgorithm, method: string, uri: string): string {
  const key = `${algorithm} ${method}:${uri}`;
  let ha2 = requestHashes.get(key);
  if (ha2 === undefined) {
    if (requestHashes.size >= REMEMBERED_REQUEST_HASHES) requestHashes.clear();
    requestHashes.set(key, (ha2 = digestHash(algorithm, `${method}:${uri}`)));
  }
  return ha2;
}

/** The client side: the Authorization header answering a challenge (the CLI's `watch`, the tests). */
export function digestAuthorizationHeader(request: { method: string; uri: string; username: string; password: string; nonce: string;
  algorithm?: DigestAlgorithm; nc?: string; cnonce?: string }): string {
  const algorithm = request.algorithm ?? 'MD5';
  const nc = request.nc ?? '00000001';
  const cnonce = request.cnonce ?? randomBytes(8).toString('hex');
  const ha1 = digestHash(algorithm, `${request.username}:${DIGEST_REALM}:${request.password}`);
  const ha2 = digestHash(algorithm, `${request.method}:${request.uri}`);
  const response = digestHash(algorithm, `${ha1}:${request.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${request.username}", realm="${DIGEST_REALM}", nonce="${request.nonce}", uri="${request.uri}", ` +
    `response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", nc=${nc}, qop=auth`;
}
