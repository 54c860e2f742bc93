// The fuzz's requests: a valid request for an operation of the generated table (its path
// filled with real resources, its declared query parameters, its contract sample body, the
// newest version), then one to three mutations of its body, path parameters, query, headers,
// method or content type. Everything is drawn from one seeded generator.
import type { OperationSpec, Schema } from '../../../src/protocol/operation-spec.js';
import type { Random } from './prng.js';

export interface FuzzRequest {
  operationId: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What was changed, for the replay report. */
  mutations: string[];
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const ODD_SEGMENTS = ['', '%00', '%FF', '..', '%2e%2e%2f', 'x'.repeat(600), '%E2%80%AE', 'null', '-1', '0'.repeat(24), 'ZZZZZZZZZZZZZZZZZZZZZZZZ', "'", '{groupId}', '%7B%7D', 'a/b', '%2F', 'mdb_sa_id_', '::1', '300.1.1.1', '0.0.0.0/0'];
const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1e308, -0.5, 2 ** 53 + 1, '', ' ', 'x'.repeat(5_000), '\u0000', '\ud800', '💩', '<script>', '$gt', [], [null], {}, { $gt: '' }, { __proto__: { polluted: 1 } }, [[[[]]]], 'AWS', 'Kafka', '1970-01-01T00:00:00Z', '9999-99-99'];
const ODD_QUERY = ['', '-1', '0', '99999999999999999999', '1.5', 'true', 'maybe', 'NaN', '%00', 'x'.repeat(2_000), '1e3', '[]', '{}'];
const ACCEPTS = ['', 'application/json', '*/*', 'application/vnd.atlas.2023-01-01+json', 'application/vnd.atlas.2099-01-01+json',
  'application/vnd.atlas.1999-01-01+json', 'application/vnd.atlas.2023-13-45+json', 'application/vnd.atlas.2023-02-01+gzip', 'application/vnd.atlas.2024-05-30+csv', 'text/html', 'application/vnd.atlas.+json'];
const CONTENT_TYPES = ['', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1',
  'application/vnd.atlas.2023-01-01+json', 'application/vnd.atlas.9999-01-01+json', 'application/xml', 'application/json;;', 'application/gzip'];
const RAW_BODIES = ['', '{', '[', 'null', '"', '{"a":}', '\u0000\u0001', '{"name":"x",}', '{"name":"x"}{"name":"y"}', '1', '[]', '{}', 'true', '%7B%7D', '\ufeff{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'];

function oddValue(r: Random): unknown {
  if (r.chance(0.1)) {
    const depth = 20 + r.int(200);
    return JSON.parse('['.repeat(depth) + ']'.repeat(depth));
  }
  return structuredClone(r.pick(ODD_VALUES));
}

/** A random path through a JSON value to one of its object keys or array items (undefined for a scalar). */
function randomSlot(r: Random, value: unknown): { parent: any; key: string | number } | undefined {
  let parent: any;
  let key: string | number | undefined;
  let node: any = value;
  for (let depth = 0; depth < 6; depth++) {
    if (node === null || typeof node !== 'object') break;
    const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = r.pick(keys);
    node = node[key];
    if (r.chance(0.4)) break;
  }
  return parent === undefined ? undefined : { parent, key: key! };
}

function mutateBody(r: Random, body: unknown, notes: string[]): string {
  const value = structuredClone(body ?? {});
  switch (r.int(6)) {
    case 0: {
      const raw = r.pick(RAW_BODIES);
      notes.push(`body raw ${JSON.stringify(raw).slice(0, 40)}`);
      return raw;
    }
    case 1: {
      const slot = randomSlot(r, value);
      if (slot) { delete slot.parent[slot.key]; notes.push(`body drop ${String(slot.key)}`); }
      break;
    }
    case 2: {
      const slot = randomSlot(r, value);
      const odd = oddValue(r);
      if (slot) slot.parent[slot.key] = odd;
      notes.push(`body set ${slot ? String(slot.key) : '(root)'}=${JSON.stringify(odd)?.slice(0, 30)}`);
      if (!slot) return JSON.stringify(odd);
      break;
    }
    case 3: {
      const slot = randomSlot(r, value);
      const target = slot && slot.parent[slot.key] !== null && typeof slot.parent[slot.key] === 'object' && !Array.isArray(slot.parent[slot.key]) ? slot.parent[slot.key] : value;
      if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[r.pick(['fuzzUnknown', '$where', 'id', '_id', 'links', 'groupId', 'type', 'name'])] = oddValue(r);
      notes.push('body add key');
      break;
    }
    case 4: {
      const text = JSON.stringify(value);
      const cut = r.int(text.length + 1);
      notes.push(`body truncated at ${cut}`);
      return text.slice(0, cut);
    }
    default: {
      notes.push('body as an array');
      return JSON.stringify([value]);
    }
  }
  return JSON.stringify(value);
}

function queryValue(schema: Schema): string {
  if (schema.default !== undefined) return String(schema.default);
  if (schema.type === 'integer') return String(schema.minimum ?? 1);
  if (schema.type === 'boolean') return 'false';
  if (schema.enum?.length) return String(schema.enum[0]);
  return 'x';
}

export interface FuzzTarget {
  op: OperationSpec;
  /** The value of each path parameter that names a real resource. */
  param(name: string): string;
  body?: unknown;
  authorization: () => string;
}

export function fuzzRequest(r: Random, t: FuzzTarget): FuzzRequest {
  const { op } = t;
  const notes: string[] = [];
  const params: Record<string, string> = {};
  for (const p of op.parameters) if (p.in === 'path') params[p.name] = encodeURIComponent(t.param(p.name)).replace(/%3A/gi, ':');
  const query = new URLSearchParams();
  for (const p of op.parameters) if (p.in === 'query' && (p.required || r.chance(0.3))) query.set(p.name, queryValue(p.schema));
  let method: string = op.method;
  const headers: Record<string, string> = { Accept: `application/vnd.atlas.${op.versions.at(-1)}+${op.format}`, Authorization: t.authorization() };
  let body = op.requestBody ? JSON.stringify(t.body ?? {}) : undefined;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  // Mutations that would leave a body-less write valid (a stray header, pretty=true) are kept
  // for reads and bodies, so that the fuzz seldom deletes or stops its own fixtures.
  const harmless = op.method === 'GET' || body !== undefined;
  const kinds = ['path', 'method', 'accept', 'query', ...(harmless ? ['header', 'contentType'] : []), ...(body !== undefined ? ['body', 'body', 'body'] : []), 'auth'];
  const count = 1 + r.int(3);
  for (let i = 0; i < count; i++) {
    switch (r.pick(kinds)) {
      case 'path': {
        const names = Object.keys(params);
        if (names.length === 0) { notes.push('path suffix'); params['__suffix'] = r.pick(ODD_SEGMENTS); break; }
        const name = r.pick(names);
        params[name] = r.pick(ODD_SEGMENTS);
        notes.push(`path ${name}=${params[name]!.slice(0, 30)}`);
        break;
      }
      case 'method': method = r.pick(METHODS); notes.push(`method ${method}`); break;
      case 'accept': headers['Accept'] = r.pick(ACCEPTS); notes.push(`accept ${headers['Accept']}`); break;
      case 'query': {
        const declared = op.parameters.filter((p) => p.in === 'query');
        const name = declared.length && r.chance(0.7) ? r.pick(declared).name : r.pick(['fuzz', 'groupId', '__proto__', 'envelope', 'pretty']);
        const value = r.pick(ODD_QUERY);
        if (r.chance(0.2)) query.append(name, value); else query.set(name, value);
        notes.push(`query ${name}=${value.slice(0, 20)}`);
        break;
      }
      case 'header': {
        const [name, value] = r.pick([
          ['X-Forwarded-For', '10.0.0.1'], ['X-Request-Id', 'x'.repeat(500)], ['Accept-Encoding', 'gzip, br'], ['Content-Encoding', 'gzip'],
          ['Expect', 'nonsense'], ['If-None-Match', '*'], ['Range', 'bytes=0-1'], ['Cookie', 'a=b'], ['Origin', 'http://evil.example'],
        ] as const);
        headers[name] = value;
        notes.push(`header ${name}`);
        break;
      }
      case 'contentType': {
        const type = r.pick(CONTENT_TYPES);
        if (type === '') delete headers['Content-Type']; else headers['Content-Type'] = type;
        if (body === undefined && r.chance(0.5)) body = '{}';
        notes.push(`content-type ${type || '(none)'}`);
        break;
      }
      case 'body': body = mutateBody(r, body === undefined ? {} : safeParse(body), notes); break;
      case 'auth': {
        const current = headers['Authorization'] ?? t.authorization();
        // None, empty, garbage, a token with a byte more, another scheme, a token with its signature replaced.
        const value = r.pick(['', 'Bearer ', 'Bearer x.y.z', `${current}x`, 'Digest username="x"', 'Basic Og==', current.replace(/\.[^.]+$/, '.AAAA')]);
        if (value === '') delete headers['Authorization']; else headers['Authorization'] = value;
        notes.push(`auth ${value.slice(0, 12) || '(none)'}`);
        break;
      }
    }
  }
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => params[name]!) + (params['__suffix'] !== undefined ? `/${params['__suffix']}` : '');
  const search = query.toString();
  return { operationId: op.operationId, method, path: search ? `${path}?${search}` : path, headers, body, mutations: notes };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
