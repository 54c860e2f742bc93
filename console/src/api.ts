// The console's only way to the server: the Admin API and the emulator's routes, called as any
// client calls them. API keys answer Digest challenges (SHA-256, which the server accepts
// alongside Atlas's MD5); service accounts get a bearer token from /api/oauth/token. Secrets
// stay in this module's memory: an API key as its Digest HA1 (the private key is not kept),
// a service account's secret to renew its token. Nothing goes to localStorage or cookies, so
// no other site can make the browser call on the user's behalf.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/** The newest resource version the console knows: the server serves each operation's latest on or before it. */
const ACCEPT = 'application/vnd.atlas.2025-03-12+json';
const REALM = 'MMS Public API';

export interface AtlasError {
  status: number;
  errorCode: string;
  detail: string;
  parameters: unknown[];
}

export class ApiFailure extends Error {
  constructor(readonly error: AtlasError) {
    super(error.detail);
  }
}

const hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));

interface DigestState {
  username: string;
  ha1: string;
  nonce?: string;
  nc: number;
}

interface BearerState {
  clientId: string;
  secret: string;
  token?: string;
  renewAt: number;
}

export type Login =
  | { kind: 'apiKey'; publicKey: string; privateKey: string }
  | { kind: 'serviceAccount'; clientId: string; secret: string }
  /** A database user after POST /emulator/v1/console/login: its short-lived token, never the password. */
  | { kind: 'databaseUser'; username: string; token: string };

/** A database user's calls go to the console's routes for them, which mirror the Admin API's paths. */
function databaseUserPath(path: string): string {
  return path.replace(/^\/api\/atlas\/v2\/groups\//, '/emulator/v1/console/groups/').replace(/^\/emulator\/v1\/groups\//, '/emulator/v1/console/groups/');
}

export class Session {
  private digest?: DigestState;
  private bearer?: BearerState;
  private consoleToken?: string;
  readonly label: string;

  /** Sends the password once; the session keeps only the token the server answers. */
  static async databaseUser(groupId: string, username: string, password: string): Promise<Session> {
    const response = await fetch('/emulator/v1/console/login', {
      method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ groupId, username, password }),
    });
    const parsed = await response.json() as { token?: string };
    if (!response.ok || !parsed.token) throw new ApiFailure(asAtlasError(response.status, parsed, false));
    return new Session({ kind: 'databaseUser', username, token: parsed.token });
  }

  /** Database users have no Admin API rights: only their processors and try-a-pipeline. */
  get isDatabaseUser(): boolean {
    return this.consoleToken !== undefined;
  }

  constructor(login: Login) {
    if (login.kind === 'databaseUser') {
      this.consoleToken = login.token;
      this.label = login.username;
    } else if (login.kind === 'apiKey') {
      this.digest = { username: login.publicKey, ha1: hex(`${login.publicKey}:${REALM}:${login.privateKey}`), nc: 0 };
      this.label = login.publicKey;
    } else {
      this.bearer = { clientId: login.clientId, secret: login.secret, renewAt: 0 };
      this.label = login.clientId;
    }
  }

  /** A call with the user's credentials; rejects with ApiFailure carrying Atlas's error. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(method, path, body);
    const text = await response.text();
    const parsed = text ? JSON.parse(text) as unknown : undefined;
    if (!response.ok) throw new ApiFailure(asAtlasError(response.status, parsed, response.headers.has('WWW-Authenticate')));
    return parsed as T;
  }

  /** The raw response (for streams such as a processor's output). */
  async fetch(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const init: RequestInit = {
      method, signal,
      // 'omit': the browser neither sends ambient credentials nor offers its own login dialog on a 401.
      credentials: 'omit',
      headers: { Accept: ACCEPT, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    if (this.consoleToken) {
      (init.headers as Record<string, string>)['X-Console-Session'] = this.consoleToken;
      return fetch(databaseUserPath(path), init);
    }
    if (this.bearer) {
      await this.renewToken();
      (init.headers as Record<string, string>)['Authorization'] = `Bearer ${this.bearer.token}`;
      return fetch(path, init);
    }
    // The first call (and any after the nonce ages) meets a challenge; later ones reuse its nonce.
    const first = await fetch(path, this.digest!.nonce ? withAuthorization(init, this.answer(method, path)) : init);
    const nonce = /nonce="([^"]+)"/.exec(first.headers.get('WWW-Authenticate') ?? '')?.[1];
    // A 401 without a challenge is an answer (a refusal for want of a role), not a request for credentials.
    if (first.status !== 401 || !nonce) return first;
    await first.body?.cancel();
    this.digest!.nonce = nonce;
    this.digest!.nc = 0;
    return fetch(path, withAuthorization(init, this.answer(method, path)));
  }

  /** One Digest answer: the same nonce serves many calls, each with the next count (RFC 7616). */
  private answer(method: string, uri: string): string {
    const d = this.digest!;
    d.nc += 1;
    const nc = d.nc.toString(16).padStart(8, '0');
    const cnonce = bytesToHex(randomBytes(8));
    const ha2 = hex(`${method}:${uri}`);
    const response = hex(`${d.ha1}:${d.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    return `Digest username="${d.username}", realm="${REALM}", nonce="${d.nonce}", uri="${uri}", response="${response}", algorithm=SHA-256, cnonce="${cnonce}", nc=${nc}, qop=auth`;
  }

  private async renewToken(): Promise<void> {
    const b = this.bearer!;
    if (b.token && Date.now() < b.renewAt) return;
    const response = await fetch('/api/oauth/token', {
      method: 'POST', credentials: 'omit',
      headers: { Authorization: `Basic ${btoa(`${b.clientId}:${b.secret}`)}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: 'grant_type=client_credentials',
    });
    const answer = await response.json() as { access_token?: string; expires_in?: number; error_description?: string; error?: string };
    if (!response.ok || !answer.access_token) {
      throw new ApiFailure({ status: response.status, errorCode: answer.error ?? 'UNAUTHORIZED', detail: answer.error_description ?? 'The service account was refused.', parameters: [] });
    }
    b.token = answer.access_token;
    // Renew a minute early so that no call carries a token about to lapse.
    b.renewAt = Date.now() + ((answer.expires_in ?? 3600) - 60) * 1000;
  }
}

function withAuthorization(init: RequestInit, authorization: string): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: authorization } };
}

function asAtlasError(status: number, body: unknown, challenged: boolean): AtlasError {
  const b = (body ?? {}) as Partial<AtlasError>;
  if (challenged) return { status, errorCode: 'UNAUTHORIZED', detail: 'These credentials were not accepted.', parameters: [] };
  return { status, errorCode: b.errorCode ?? 'UNEXPECTED_ERROR', detail: b.detail ?? `HTTP ${status}`, parameters: Array.isArray(b.parameters) ? b.parameters : [] };
}

export const paths = {
  workspaces: (g: string) => `/api/atlas/v2/groups/${g}/streams`,
  workspace: (g: string, t: string) => `/api/atlas/v2/groups/${g}/streams/${encodeURIComponent(t)}`,
  connections: (g: string, t: string) => `${paths.workspace(g, t)}/connections`,
  connection: (g: string, t: string, c: string) => `${paths.connections(g, t)}/${encodeURIComponent(c)}`,
  processors: (g: string, t: string) => `${paths.workspace(g, t)}/processors`,
  newProcessor: (g: string, t: string) => `${paths.workspace(g, t)}/processor`,
  processor: (g: string, t: string, p: string) => `${paths.workspace(g, t)}/processor/${encodeURIComponent(p)}`,
  output: (g: string, t: string, p: string) => `/emulator/v1/groups/${g}/streams/${encodeURIComponent(t)}/processor/${encodeURIComponent(p)}/output`,
  deadLetters: (g: string, t: string, p: string) => `/emulator/v1/groups/${g}/streams/${encodeURIComponent(t)}/processor/${encodeURIComponent(p)}/deadLetters`,
  tryPipeline: (g: string, t: string) => `/emulator/v1/groups/${g}/streams/${encodeURIComponent(t)}/process`,
  journal: (query: string) => `/emulator/v1/admin/journal${query}`,
};

export interface Page<T> {
  results: T[];
  totalCount?: number;
}
