// Test helpers: a real server on a loopback port, and clients that speak to it the way
// Atlas's clients do (Digest in two legs, OAuth bearer tokens).
import { Writable } from 'node:stream';
import { startApp, type App, type AppConfig } from '../app.js';
import { digestAuthorizationHeader } from '../http/auth/digest.js';
import { createTestSchema, SKIP_MESSAGE, TEST_DATABASE_URL_VARIABLE, type TestSchema } from './postgres.js';

export interface TestServer {
  app: App;
  url: string;
  orgId: string;
  projectId: string;
  /** The bootstrap org owner key. */
  owner: ApiKeyCredentials;
  /** Every log line the server wrote, for checks that secrets never appear. */
  logs: string[];
  close(): Promise<void>;
}

export interface ApiKeyCredentials {
  publicKey: string;
  privateKey: string;
}

export async function startTestServer(overrides: Partial<AppConfig> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  // A test that restarts a server on the same data directory expects the same data back.
  const persistentDir = overrides.inMemory === false ? overrides.dataDir : undefined;
  const schema = await testStoreSchema(persistentDir);
  const app = await startApp({
    port: 0, host: '127.0.0.1', dataDir: '', inMemory: true, logLevel: 'info', enforceRateLimits: false, env: {},
    logDestination, databaseUrl: schema?.url, ...overrides,
  });
  return {
    app,
    url: app.url,
    orgId: app.bootstrap.orgId,
    projectId: app.bootstrap.projectId,
    owner: { publicKey: app.bootstrap.publicKey, privateKey: app.bootstrap.privateKey! },
    logs,
    async close() {
      await app.close();
      // A restart test's schema outlives each server, like its data directory (the database is a throwaway one).
      if (persistentDir === undefined) await schema?.drop();
    },
  };
}

/**
 * ATLAS_STREAMS_TEST_STORE=postgres runs every test server on PostgreSQL (a schema of its
 * own on the server scripts/ci-postgres.sh started); otherwise the in-memory SQLite store.
 */
async function testStoreSchema(persistentDir: string | undefined): Promise<TestSchema | undefined> {
  if (process.env['ATLAS_STREAMS_TEST_STORE'] !== 'postgres') return undefined;
  const serverUrl = process.env[TEST_DATABASE_URL_VARIABLE];
  if (!serverUrl) throw new Error(`ATLAS_STREAMS_TEST_STORE=postgres needs ${TEST_DATABASE_URL_VARIABLE}: ${SKIP_MESSAGE}`);
  return createTestSchema(serverUrl, persistentDir);
}

export interface CallOptions {
  method?: string;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
  /** Defaults to the operation family's current version. */
  accept?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined. */
  json: any;
}

export const ACCEPT = {
  identity: 'application/vnd.atlas.2023-01-01+json',
  serviceAccounts: 'application/vnd.atlas.2024-08-05+json',
  streams: 'application/vnd.atlas.2023-02-01+json',
  processors: 'application/vnd.atlas.2024-05-30+json',
  latest: 'application/vnd.atlas.2025-03-12+json',
} as const;

/** The headers and body a call sends, whatever carries it. */
export function requestParts(options: CallOptions, authorization?: string): { headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { Accept: options.accept ?? ACCEPT.latest, ...options.headers };
  if (authorization) headers['Authorization'] = authorization;
  if (options.body === undefined) return { headers };
  const body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  headers['Content-Type'] = options.contentType ?? 'application/json';
  return { headers, body };
}

async function send(url: string, options: CallOptions, authorization?: string): Promise<CallResult> {
  const { headers, body } = requestParts(options, authorization);
  const response = await fetch(url, { method: options.method ?? 'GET', headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A call with no credentials at all. */
export function callAnonymous(url: string, options: CallOptions = {}): Promise<CallResult> {
  return send(url, options);
}

/** The Digest flow of Atlas's clients: one unauthenticated leg (same method and body), then the answer. */
export async function callDigest(url: string, credentials: ApiKeyCredentials, options: CallOptions = {}, algorithm: 'MD5' | 'SHA-256' = 'MD5'): Promise<CallResult> {
  const first = await send(url, options);
  if (first.status !== 401) return first;
  const challenge = first.headers.get('www-authenticate') ?? '';
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1];
  if (!nonce) return first;
  return send(url, options, digestAuthorization(url, options.method ?? 'GET', credentials, nonce, algorithm));
}

export function digestAuthorization(url: string, method: string, credentials: ApiKeyCredentials, nonce: string, algorithm: 'MD5' | 'SHA-256' = 'MD5', nc = '00000001'): string {
  const { pathname, search } = new URL(url);
  return digestAuthorizationHeader({ method, uri: pathname + search, username: credentials.publicKey, password: credentials.privateKey, nonce, algorithm, nc });
}

export function callBearer(url: string, token: string, options: CallOptions = {}): Promise<CallResult> {
  return send(url, options, `Bearer ${token}`);
}

/** Client-credentials grant; returns the access token or throws with the server's answer. */
export async function fetchToken(baseUrl: string, clientId: string, secret: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A caller bound to one set of credentials and the server's base URL. */
export interface Client {
  call(path: string, options?: CallOptions): Promise<CallResult>;
}

export function digestClient(server: { url: string }, credentials: ApiKeyCredentials): Client {
  return { call: (path, options) => callDigest(`${server.url}${path}`, credentials, options) };
}

export function bearerClient(server: { url: string }, token: string): Client {
  return { call: (path, options) => callBearer(`${server.url}${path}`, token, options) };
}
