// The contract suite's engine. Each area file describes its operations (how to set one up,
// what state it touches, which errors only a hand-written case can provoke); everything that
// can be read off the generated operation table is derived here, so the matrix follows the
// spec: versions (406), path-id patterns, declared query parameters, body schemas, the roles
// each operation needs (401) and the documented error statuses.
//
// Test names follow one convention, read back by coverage-reporter.ts:
//   [operationId] success
//   [operationId] <status> <errorCode> (<what was wrong>)
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { matchRoute, operationById } from '../../src/protocol/router.js';
import { schemas } from '../../src/protocol/generated/schemas.js';
import { matchesPattern } from '../../src/protocol/validate.js';
import { requiredRoles } from '../../src/model/roles.js';
import type { OperationSpec, Schema } from '../../src/protocol/operation-spec.js';
import {
  ACCEPT, callAnonymous, digestAuthorization, digestClient, startTestServer, type ApiKeyCredentials, type CallOptions, type CallResult, type TestServer,
} from '../../src/testing/harness.js';
import { createOrgKey, createProject, createProjectKey, type CreatedKey } from '../identity-helpers.js';
import { streamsClient, type StreamsClient } from '../streams-fixtures.js';
import { withoutFields } from '../../src/testing/without-fields.js';

declare module 'vitest' {
  interface TaskMeta {
    contract?: { operationId: string; notProvokable: Record<string, string>; differences: string[] };
  }
}

export const V2 = '/api/atlas/v2';

/** Documented statuses no single request can provoke, the same for every operation. */
export const GENERAL_NOT_PROVOKABLE: Record<number, string> = {
  429: 'RATE_LIMITED comes only with --enforce-rate-limits and after 1200 calls a minute from one caller (differences: Rate limits)',
};
export const NO_SUCH = {
  groupId: '0123456789abcdef01234567',
  orgId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  objectId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  clientId: `mdb_sa_id_${'c'.repeat(24)}`,
};

/** Everything a file's tests share: one server, its owner, the personas of the role checks. */
export interface World {
  server: TestServer;
  groupId: string;
  orgId: string;
  /** The bootstrap Organization Owner key; every call checked against the spec's response schemas. */
  owner: StreamsClient;
  personas: {
    /** A project key with Project Read Only in the server's project. */
    projectReadOnly: CreatedKey;
    /** An organization key with Organization Member only. */
    orgMember: CreatedKey;
    /** Project Owner of another project only: no access to the server's project. */
    outsider: CreatedKey;
    /** An Organization Owner key whose access list holds only 10.255.255.1. */
    blocked: CreatedKey;
  };
  /** A name no other test of this file uses. */
  unique(prefix: string): string;
}

/** What one call of the operation needs: path parameters, query, body. */
export interface Target {
  params: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Anything the setup wants the checks to know (ids, names). */
  extra?: Record<string, unknown>;
}

export interface Expected {
  status: number;
  errorCode: string;
}

export interface HandWrittenCase {
  /** `<status> <errorCode> (<what>)`; the test is named `[operationId] <name>`. */
  name: string;
  run(w: World): Promise<void>;
}

export interface OperationContract {
  operationId: string;
  /** Creates what the operation needs; returns a request that succeeds. Must make fresh resources each call. */
  setup(w: World): Promise<Target>;
  /** Extra checks on the success response. */
  success?(res: CallResult, t: Target, w: World): Promise<void> | void;
  /** What a path parameter that names nothing answers; null where the parameter cannot name a missing parent. */
  missing?: Record<string, (Expected & { value?: string }) | null>;
  /** 409 on doing it twice: the second call's expected error. */
  duplicate?: Expected;
  /** Errors only a hand-written case can provoke (403 in-use, 409 state, 400 domain rules). */
  cases?: HandWrittenCase[];
  /** Validation cases derived from this schema instead of the spec's (for a free-form body). */
  bodySchema?: string;
  /** Documented statuses no request can provoke, with why. */
  notProvokable?: Record<number, string>;
  /** Rows of docs/differences-from-atlas.md the operation's behaviour rests on. */
  differences?: string[];
  /** A valid body of the shape setup returns, to derive the body matrix from at collection time. */
  sampleBody?: unknown;
  /** Derived body cases this operation answers differently, on purpose (key: case name; null drops it). */
  bodyOverrides?: Record<string, Expected | null>;
}

export interface Area {
  contracts: OperationContract[];
  /** Builds shared fixtures once per file. */
  prepare?(w: World): Promise<void>;
  /** The stored state a call on target could change, read through the API (volatile fields removed). */
  snapshot(w: World, t: Target): Promise<unknown>;
}

// ---------------------------------------------------------------------------------------
// Requests

export function pathOf(op: OperationSpec, t: Target): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = t.params[name];
    if (value === undefined) throw new Error(`${op.operationId}: no value for path parameter ${name}`);
    return encodeURIComponent(value).replace(/%3A/gi, ':');
  });
  const query = new URLSearchParams(t.query ?? {}).toString();
  return query ? `${path}?${query}` : path;
}

export function send(w: World, op: OperationSpec, t: Target, credentials?: ApiKeyCredentials, options: CallOptions = {}): Promise<CallResult> {
  const client = credentials ? streamsClient(w.server, credentials) : w.owner;
  return client.call(op.operationId, pathOf(op, t), { method: op.method, accept: latestAccept(op), ...(t.body !== undefined ? { body: t.body } : {}), ...options });
}

/** The newest date a client sends (docs/atlas-behaviour.md, "Versions": the server serves the latest version on or before it). */
export function latestAccept(op: OperationSpec): string {
  return ACCEPT.latest.replace('+json', `+${op.format}`);
}

/** A Digest call through node:http, so that no Accept header at all can be sent (fetch always adds one). */
export async function rawDigest(w: World, method: string, path: string, headers: Record<string, string>, body?: string): Promise<CallResult> {
  const url = `${w.server.url}${path}`;
  const once = (extra: Record<string, string>) => new Promise<CallResult>((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, ...extra, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  const first = await once({});
  const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate') ?? '')?.[1];
  if (first.status !== 401 || !nonce) return first;
  return once({ Authorization: digestAuthorization(url, method, w.server.owner, nonce) });
}

// ---------------------------------------------------------------------------------------
// Assertions

/** An Atlas error: status, errorCode, X-Error-Code, Content-Type, compact sorted body with parameters. */
export function expectAtlasError(res: CallResult, expected: Expected): void {
  expect({ status: res.status, errorCode: res.json?.errorCode }, res.text.slice(0, 400)).toEqual(expected);
  expect(res.headers.get('x-error-code')).toBe(expected.errorCode);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(Object.keys(res.json)).toEqual(Object.keys(res.json).sort());
  expect(Array.isArray(res.json.parameters), 'parameters always present').toBe(true);
  expect(res.json.error).toBe(expected.status);
  expect(res.text).toBe(JSON.stringify(res.json));
}

const VOLATILE = new Set(['stats', 'lastUsed', 'lastUsedAt', 'lastUsedAddress', 'requestCount', 'count', 'lastStateChange', 'lastModified']);

export const stable = (value: unknown): unknown => withoutFields(value, VOLATILE);

/** One Digest nonce per server, reused with a rising nonce count: a snapshot costs one round trip per GET. */
const nonces = new WeakMap<World, { nonce: string; nc: number }>();

async function ownerGet(w: World, path: string): Promise<CallResult> {
  const url = `${w.server.url}${path}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    let state = nonces.get(w);
    if (!state) {
      const challenge = await callAnonymous(url, { accept: ACCEPT.latest });
      state = { nonce: /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')![1]!, nc: 0 };
      nonces.set(w, state);
    }
    const nc = (++state.nc).toString(16).padStart(8, '0');
    const res = await callAnonymous(url, { accept: ACCEPT.latest, headers: { Authorization: digestAuthorization(url, 'GET', w.server.owner, state.nonce, 'MD5', nc) } });
    if (res.status !== 401) return res;
    nonces.delete(w);
  }
  return digestClient(w.server, w.server.owner).call(path, { accept: ACCEPT.latest });
}

/** GETs a path with the owner key and returns status plus stable body, for snapshots (not schema-checked: only compared). */
export async function look(w: World, path: string, _operationId: string): Promise<unknown> {
  const res = await ownerGet(w, path);
  return { path, status: res.status, body: stable(res.json) };
}

// ---------------------------------------------------------------------------------------
// Derivation from the operation table

function resolve(schema: Schema | undefined): Schema {
  let s = schema ?? {};
  while (s.$ref) s = schemas[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

interface Shape {
  properties: Record<string, Schema>;
  required: string[];
  open: boolean;
  discriminator?: string;
}

/** Properties of an object schema as the value takes it (allOf folded, a discriminated oneOf followed). */
function shapeOf(raw: Schema, value: Record<string, unknown>): Shape | undefined {
  let schema = resolve(raw);
  let discriminator: string | undefined;
  if (schema.oneOf && schema.discriminator) {
    discriminator = schema.discriminator.propertyName;
    const target = schema.discriminator.mapping?.[String(value[discriminator])];
    if (!target) return undefined;
    schema = resolve({ $ref: target });
  }
  if (schema.oneOf) return undefined;
  const properties: Record<string, Schema> = { ...(schema.properties ?? {}) };
  const required = new Set(schema.required ?? []);
  let additional = schema.additionalProperties;
  for (const member of schema.allOf ?? []) {
    const m = resolve(member);
    Object.assign(properties, m.properties ?? {});
    (m.required ?? []).forEach((r) => required.add(r));
    additional ??= m.additionalProperties;
  }
  if (Object.keys(properties).length === 0) return undefined;
  return { properties, required: [...required], open: additional !== undefined && additional !== false, discriminator };
}

const WRONG_TYPE: Record<string, unknown> = {
  string: 12345, integer: 'twelve', number: 'twelve', boolean: 'yes', array: 'not-an-array', object: 'not-an-object',
};

export interface DerivedCase {
  name: string;
  expected: Expected;
  target: (t: Target) => Target;
  /** The body goes as this raw text. */
  raw?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function setAt(body: unknown, path: (string | number)[], mutate: (parent: Record<string, unknown>, key: string) => void): unknown {
  const copy = structuredClone(body);
  let node: any = copy;
  for (const step of path.slice(0, -1)) node = node[step];
  mutate(node, String(path[path.length - 1]));
  return copy;
}

/** The body matrix: unknown field, each required one missing, each enum and each type wrong, read-only, malformed JSON. */
export function bodyCases(op: OperationSpec, valid: unknown, schemaName?: string): DerivedCase[] {
  const version = op.versions[op.versions.length - 1]!;
  const root: Schema | undefined = schemaName ? { $ref: schemaName } : op.requestBody?.schemas[version];
  if (!root) return [];
  const cases: DerivedCase[] = [
    { name: 'MALFORMED_JSON (truncated JSON)', expected: { status: 400, errorCode: 'MALFORMED_JSON' }, raw: true, target: (t) => ({ ...t, body: '{"name": ' }) },
  ];
  const walk = (schema: Schema, value: unknown, path: (string | number)[], depth: number) => {
    const s = resolve(schema);
    if (Array.isArray(value)) {
      if (s.type === 'array' && value.length > 0) walk(s.items ?? {}, value[0], [...path, 0], depth);
      return;
    }
    if (!isPlainObject(value)) return;
    const shape = shapeOf(s, value);
    if (!shape) return;
    const label = (name: string) => [...path, name].filter((p) => typeof p === 'string').join('.');
    const push = (name: string, errorCode: string, mutate: (parent: Record<string, unknown>, key: string) => void, key: string) => {
      cases.push({ name: `${errorCode} (${name})`, expected: { status: 400, errorCode }, target: (t) => ({ ...t, body: setAt(t.body, [...path, key], mutate) }) });
    };
    if (!shape.open) push(`unknown ${label('contractUnknownField')}`, 'INVALID_ATTRIBUTE', (p, k) => { p[k] = true; }, 'contractUnknownField');
    if (shape.discriminator) {
      push(`${label(shape.discriminator)} missing`, 'MISSING_ATTRIBUTE', (p, k) => { delete p[k]; }, shape.discriminator);
      push(`${label(shape.discriminator)} not a subtype`, 'INVALID_ENUM_VALUE', (p, k) => { p[k] = 'NotAType'; }, shape.discriminator);
    }
    for (const name of shape.required) {
      const property = shape.properties[name];
      if (property && (property.readOnly || resolve(property).readOnly)) continue;
      if (name === shape.discriminator || value[name] === undefined) continue;
      push(`${label(name)} missing`, 'MISSING_ATTRIBUTE', (p, k) => { delete p[k]; }, name);
    }
    let readOnlyDone = false;
    for (const [name, property] of Object.entries(shape.properties)) {
      const p = resolve(property);
      if (name === shape.discriminator) continue;
      if (property.readOnly || p.readOnly) {
        // One read-only field per object is enough to show they are refused (links are tolerated).
        if (!readOnlyDone && name !== 'links' && name !== 'groupId' && depth === 0) {
          readOnlyDone = true;
          push(`read-only ${label(name)}`, 'ATTRIBUTE_READ_ONLY', (o, k) => { o[k] = p.type === 'array' ? [] : p.type === 'integer' ? 1 : 'x'; }, name);
        }
        continue;
      }
      if (p.writeOnly && value[name] === undefined) continue;
      // A oneOf of enums (a region per provider) is a string enum whatever `type` the spec writes beside it.
      const members = !p.discriminator && p.oneOf ? p.oneOf.map(resolve) : [];
      const memberType = members.length && members.every((m) => m.type === members[0]!.type) ? members[0]!.type : undefined;
      if (members.length && members.every((m) => m.enum)) push(`${label(name)} in none of the enums`, 'INVALID_ENUM_VALUE', (o, k) => { o[k] = 'NOT_AN_ENUM_VALUE'; }, name);
      else if (p.enum) push(`${label(name)} not in enum`, 'INVALID_ENUM_VALUE', (o, k) => { o[k] = 'NOT_AN_ENUM_VALUE'; }, name);
      else if (p.type === 'array' && resolve(p.items).enum) push(`${label(name)} item not in enum`, 'INVALID_ENUM_VALUE', (o, k) => { o[k] = ['NOT_AN_ENUM_VALUE']; }, name);
      const type = memberType ?? p.type ?? (p.properties || p.allOf ? 'object' : undefined);
      if (type && WRONG_TYPE[type] !== undefined) push(`${label(name)} of the wrong type`, 'INVALID_JSON_ATTRIBUTE', (o, k) => { o[k] = WRONG_TYPE[type]; }, name);
      if (depth < 2 && value[name] !== undefined && (isPlainObject(value[name]) || Array.isArray(value[name]))) walk(property, value[name], [...path, name], depth + 1);
    }
  };
  walk(root, valid, [], 0);
  return cases;
}

/** Malformed path ids: the parameter's own code where Atlas has one. */
const MALFORMED_ID: Record<string, Expected> = {
  groupId: { status: 404, errorCode: 'INVALID_GROUP_ID' },
  orgId: { status: 400, errorCode: 'INVALID_ORG_ID' },
  apiUserId: { status: 400, errorCode: 'INVALID_API_KEY_ID' },
};

export function pathCases(op: OperationSpec): DerivedCase[] {
  const out: DerivedCase[] = [];
  for (const p of op.parameters) {
    if (p.in !== 'path' || !p.schema.pattern) continue;
    const bad = ['not-a-valid-id', 'zz', '!'].find((v) => !matchesPattern(p.schema.pattern!, v));
    if (!bad) continue;
    const expected = MALFORMED_ID[p.name] ?? { status: 400, errorCode: 'INVALID_PATH_PARAMETER' };
    out.push({ name: `${expected.errorCode} (${p.name}=${bad})`, expected, target: (t) => ({ ...t, params: { ...t.params, [p.name]: bad } }) });
  }
  return out;
}

export function queryCases(op: OperationSpec): DerivedCase[] {
  const out: DerivedCase[] = [];
  for (const p of op.parameters) {
    if (p.in !== 'query') continue;
    const s = resolve(p.schema);
    const bad: string[] = [];
    if (s.type === 'boolean') bad.push('maybe');
    if (s.type === 'integer' || s.type === 'number') {
      bad.push('abc');
      if (s.minimum !== undefined) bad.push(String(s.minimum - 1));
      if (s.maximum !== undefined) bad.push(String(s.maximum + 1));
    }
    if (s.type === 'string' && s.pattern) {
      const v = ['!bad value!', 'zz'].find((x) => !matchesPattern(s.pattern!, x));
      if (v) bad.push(v);
    }
    for (const value of bad) {
      out.push({
        name: `INVALID_QUERY_PARAMETER (${p.name}=${value})`, expected: { status: 400, errorCode: 'INVALID_QUERY_PARAMETER' },
        target: (t) => ({ ...t, query: { ...(t.query ?? {}), [p.name]: value } }),
      });
    }
    if (p.required) {
      out.push({
        name: `MISSING_QUERY_PARAMETER (${p.name} absent)`, expected: { status: 400, errorCode: 'MISSING_QUERY_PARAMETER' },
        target: (t) => { const query = { ...(t.query ?? {}) }; delete query[p.name]; return { ...t, query }; },
      });
    }
  }
  return out;
}

/** The weakest persona an operation's role table refuses, with the error it should get. */
export function refusals(op: OperationSpec): Array<{ persona: keyof World['personas']; label: string; expected: Expected }> {
  const roles = requiredRoles(op);
  const out: Array<{ persona: keyof World['personas']; label: string; expected: Expected }> = [];
  if (op.path.includes('{groupId}')) {
    if (!roles.includes('GROUP_READ_ONLY')) out.push({ persona: 'projectReadOnly', label: 'Project Read Only key', expected: { status: 401, errorCode: 'USER_UNAUTHORIZED' } });
    out.push({ persona: 'outsider', label: 'key of another project', expected: { status: 401, errorCode: 'NOT_IN_GROUP' } });
  } else if (roles.length > 0 && !roles.includes('ORG_MEMBER')) {
    out.push({ persona: 'orgMember', label: 'Organization Member key', expected: { status: 401, errorCode: 'USER_UNAUTHORIZED' } });
  }
  return out;
}

const DEFAULT_MISSING: Record<string, (op: OperationSpec) => (Expected & { value: string }) | undefined> = {
  groupId: () => ({ value: NO_SUCH.groupId, status: 404, errorCode: 'GROUP_NOT_FOUND' }),
  orgId: () => ({ value: NO_SUCH.orgId, status: 404, errorCode: 'ORG_NOT_FOUND' }),
  tenantName: () => ({ value: 'no-such-instance', status: 404, errorCode: 'STREAM_TENANT_NOT_FOUND_FOR_NAME' }),
  connectionName: () => ({ value: 'no-such-connection', status: 404, errorCode: 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME' }),
  processorName: () => ({ value: 'no-such-processor', status: 404, errorCode: 'STREAM_PROCESSOR_NOT_FOUND' }),
  connectionId: () => ({ value: NO_SUCH.objectId, status: 404, errorCode: 'STREAM_PRIVATE_LINK_NOT_FOUND' }),
  failoverConnectionId: () => ({ value: NO_SUCH.objectId, status: 404, errorCode: 'STREAM_FAILOVER_CONNECTION_NOT_FOUND' }),
  id: () => ({ value: NO_SUCH.objectId, status: 404, errorCode: 'STREAM_VPC_PEERING_CONNECTION_NOT_FOUND' }),
  apiUserId: () => ({ value: NO_SUCH.objectId, status: 404, errorCode: 'API_KEY_NOT_FOUND' }),
  clientId: () => ({ value: NO_SUCH.clientId, status: 404, errorCode: 'SERVICE_ACCOUNT_NOT_FOUND' }),
  secretId: () => ({ value: NO_SUCH.objectId, status: 404, errorCode: 'SERVICE_ACCOUNT_SECRET_NOT_FOUND' }),
  ipAddress: (op) => ({
    value: '10.99.99.99', status: 404,
    errorCode: op.path.includes('serviceAccounts') ? 'SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_NOT_FOUND' : 'ACCESS_LIST_ENTRY_NOT_FOUND',
  }),
  groupName: () => ({ value: 'no-such-project-name', status: 404, errorCode: 'GROUP_NAME_NOT_FOUND' }),
};

export const CHALLENGE_BODY_TEXT = '{\n  "error" : 401,\n  "reason" : "Unauthorized",\n  "detail" : "You are not authorized for this resource.",\n  "errorCode" : "UNEXPECTED_ERROR"\n}';
export const CHALLENGE_HEADER = /^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9+/]{32}", algorithm=MD5, qop="auth", stale=false$/;
export const VERSION_ERROR_TEXT = '{"detail":"Invalid accept header or version date.","error":406,"errorCode":"INVALID_VERSION_DATE","parameters":[],"reason":"Not Acceptable"}';

export function successContentType(op: OperationSpec): string {
  const version = op.versions[op.versions.length - 1]!;
  return op.format === 'json' ? `application/vnd.atlas.${version}+json;charset=utf-8` : `application/vnd.atlas.${version}+${op.format}`;
}

// ---------------------------------------------------------------------------------------
// World

let counter = 0;

export async function makeWorld(): Promise<World> {
  const server = await startTestServer();
  const owner = streamsClient(server);
  const rawClient = { call: (path: string, options: CallOptions = {}) => owner.call(guessOperation(path, options.method ?? 'GET'), path, options) };
  const groupId = server.projectId;
  const orgId = server.orgId;
  const otherProject = await createProject(rawClient, orgId, `outsider-${process.pid}-${Date.now()}`);
  const blocked = await createOrgKey(rawClient, orgId, ['ORG_OWNER'], 'blocked by its access list');
  const add = await rawClient.call(`${V2}/orgs/${orgId}/apiKeys/${blocked.id}/accessList`, { method: 'POST', body: [{ ipAddress: '10.255.255.1' }] });
  expect(add.status, add.text).toBe(200);
  return {
    server, groupId, orgId, owner,
    personas: {
      projectReadOnly: await createProjectKey(rawClient, groupId, ['GROUP_READ_ONLY'], 'project read only'),
      orgMember: await createOrgKey(rawClient, orgId, ['ORG_MEMBER'], 'org member'),
      outsider: await createProjectKey(rawClient, otherProject, ['GROUP_OWNER'], 'outsider'),
      blocked,
    },
    unique: (prefix) => `${prefix}-${++counter}`,
  };
}

/** The operation a raw path names, so setup calls are checked against the spec too. */
function guessOperation(path: string, method: string): string {
  const route = matchRoute(method, path.split('?')[0]!);
  if (route.kind !== 'found') throw new Error(`no operation for ${method} ${path}`);
  return route.operation.operationId;
}

/** An owner client for setup steps that names operations by path (checked against the spec all the same). */
export function setupClient(w: World): { call(path: string, options?: CallOptions): Promise<CallResult> } {
  return { call: (path, options = {}) => w.owner.call(guessOperation(path, options.method ?? 'GET'), path, options) };
}

// ---------------------------------------------------------------------------------------
// Registration

export function runArea(area: Area): void {
  let w: World;
  const shared = new Map<string, Promise<Target>>();
  beforeAll(async () => {
    w = await makeWorld();
    await area.prepare?.(w);
  });
  afterAll(async () => { await w?.server.close(); });

  for (const contract of area.contracts) {
    const op = operationById(contract.operationId);
    const id = op.operationId;
    /** One target for every error case: errors change nothing, so they can share it. */
    const sharedTarget = () => {
      if (!shared.has(id)) shared.set(id, contract.setup(w));
      return shared.get(id)!;
    };
    /** Sends t as it is, checks the expected error and that the stored state did not move. */
    const expectRefused = async (t: Target, expected: Expected, call: (t: Target) => Promise<CallResult>) => {
      const before = await area.snapshot(w, t);
      const res = await call(t);
      expectAtlasError(res, expected);
      expect(await area.snapshot(w, t), 'stored state unchanged').toEqual(before);
      return res;
    };

    describe(id, () => {
      it(`[${id}] success`, async (ctx: TestContext) => {
        ctx.task.meta.contract = {
          operationId: id, differences: contract.differences ?? [],
          notProvokable: Object.fromEntries(Object.entries({ ...GENERAL_NOT_PROVOKABLE, ...contract.notProvokable }).map(([k, v]) => [k, v])),
        };
        const t = await contract.setup(w);
        const res = await send(w, op, t);
        expect(res.status, res.text.slice(0, 400)).toBe(op.successStatus);
        if (op.successStatus === 204) {
          expect(res.text).toBe('');
        } else {
          expect(res.headers.get('content-type')).toBe(successContentType(op));
        }
        if (op.successStatus === 202) expect(res.text).toBe('{}');
        await contract.success?.(res, t, w);
      });

      // Paths under /unauth/ answer without credentials: no challenge, no role to refuse.
      if (!op.path.startsWith(`${V2}/unauth/`)) {
        it(`[${id}] 401 challenge (no credentials; the first leg changes nothing)`, async () => {
          const t = await sharedTarget();
          const before = await area.snapshot(w, t);
          const res = await callAnonymous(`${w.server.url}${pathOf(op, t)}`, { method: op.method, accept: latestAccept(op), ...(t.body !== undefined ? { body: t.body } : {}) });
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toMatch(CHALLENGE_HEADER);
          expect(res.headers.get('content-type')).toBe('application/json');
          expect(res.text).toBe(CHALLENGE_BODY_TEXT);
          expect(await area.snapshot(w, t), 'stored state unchanged').toEqual(before);
        });

        for (const refusal of refusals(op)) {
          it(`[${id}] ${refusal.expected.status} ${refusal.expected.errorCode} (${refusal.label})`, async () => {
            const t = await sharedTarget();
            const credentials = await personaFor(w, refusal.persona, t);
            await expectRefused(t, refusal.expected, (x) => send(w, op, x, credentials));
          });
        }

        if (op.documentedErrors.includes(403)) {
          it(`[${id}] 403 IP_ADDRESS_NOT_ON_ACCESS_LIST (caller's address not on the key's access list)`, async () => {
            const t = await sharedTarget();
            const res = await expectRefused(t, { status: 403, errorCode: 'IP_ADDRESS_NOT_ON_ACCESS_LIST' }, (x) => send(w, op, x, w.personas.blocked));
            expect(res.json.detail).toBe('IP address 127.0.0.1 is not allowed to access this resource.');
          });
        }
      }

      for (const p of op.parameters.filter((x) => x.in === 'path')) {
        const override = contract.missing?.[p.name];
        if (override === null) continue;
        const expected = override ? { ...DEFAULT_MISSING[p.name]?.(op), ...override } : DEFAULT_MISSING[p.name]?.(op);
        if (!expected?.value) continue;
        it(`[${id}] ${expected.status} ${expected.errorCode} (${p.name} names nothing)`, async () => {
          const t = await sharedTarget();
          await expectRefused({ ...t, params: { ...t.params, [p.name]: expected.value! } }, { status: expected.status, errorCode: expected.errorCode }, (x) => send(w, op, x));
        });
      }

      for (const c of [...pathCases(op), ...queryCases(op)]) {
        it(`[${id}] ${c.expected.status} ${c.name}`, async () => {
          const t = await sharedTarget();
          const bad = c.target(t);
          const before = await area.snapshot(w, t);
          const res = await send(w, op, bad);
          expectAtlasError(res, c.expected);
          expect(await area.snapshot(w, t), 'stored state unchanged').toEqual(before);
        });
      }

      for (const [label, accept] of versionCases(op)) {
        it(`[${id}] 406 INVALID_VERSION_DATE (${label})`, async () => {
          const t = await sharedTarget();
          const before = await area.snapshot(w, t);
          const body = t.body === undefined ? undefined : JSON.stringify(t.body);
          const res = accept === undefined
            ? await rawDigest(w, op.method, pathOf(op, t), {}, body)
            : await send(w, op, t, undefined, { accept });
          expectAtlasError(res, { status: 406, errorCode: 'INVALID_VERSION_DATE' });
          expect(res.text).toBe(VERSION_ERROR_TEXT);
          expect(await area.snapshot(w, t), 'stored state unchanged').toEqual(before);
        });
      }

      if (contract.duplicate) {
        const duplicate = contract.duplicate;
        it(`[${id}] ${duplicate.status} ${duplicate.errorCode} (the same request twice)`, async () => {
          const t = await contract.setup(w);
          const first = await send(w, op, t);
          expect(first.status, first.text).toBe(op.successStatus);
          await expectRefused(t, duplicate, (x) => send(w, op, x));
        });
      }

      for (const c of contract.cases ?? []) {
        it(`[${id}] ${c.name}`, () => c.run(w));
      }
    });

    // Body cases are registered at collection time from sampleBody's shape and applied to the
    // body setup returns (the same shape with fresh names).
    if (op.requestBody) {
      if (contract.sampleBody === undefined) throw new Error(`${id}: a request body is documented, so the contract needs sampleBody`);
      describe(`${id} body`, () => {
        for (const c of bodyCases(op, contract.sampleBody, contract.bodySchema)) {
          const override = contract.bodyOverrides?.[c.name];
          if (override === null) continue;
          const expected = override ?? c.expected;
          it(`[${id}] ${expected.status} ${c.name}`, async () => {
            const t = await sharedTarget();
            const bad = c.target({ ...t, body: t.body });
            const before = await area.snapshot(w, t);
            const res = await send(w, op, bad);
            expectAtlasError(res, expected);
            expect(await area.snapshot(w, t), 'stored state unchanged').toEqual(before);
          });
        }
      });
    }
  }
}

const readOnlyKeys = new Map<string, Promise<CreatedKey>>();

/** The persona, made Project Read Only in the target's own project when that is not the server's. */
function personaFor(w: World, persona: keyof World['personas'], t: Target): Promise<CreatedKey> {
  const groupId = t.params['groupId'];
  if (persona !== 'projectReadOnly' || !groupId || groupId === w.groupId) return Promise.resolve(w.personas[persona]);
  if (!readOnlyKeys.has(groupId)) readOnlyKeys.set(groupId, createProjectKey(setupClient(w), groupId, ['GROUP_READ_ONLY'], 'project read only'));
  return readOnlyKeys.get(groupId)!;
}

function versionCases(op: OperationSpec): Array<[string, string | undefined]> {
  const first = op.versions[0]!;
  const before = `${Number(first.slice(0, 4)) - 1}${first.slice(4)}`;
  const cases: Array<[string, string | undefined]> = [
    ['no Accept header', undefined],
    ['Accept: application/json', 'application/json'],
    ['Accept: */*', '*/*'],
    ['malformed date 2023-13-45', `application/vnd.atlas.2023-13-45+${op.format}`],
    [`date ${before} before the first version`, `application/vnd.atlas.${before}+${op.format}`],
  ];
  if (op.format !== 'json') cases.push([`json instead of ${op.format}`, `application/vnd.atlas.${first}+json`]);
  return cases;
}

export { ACCEPT };
