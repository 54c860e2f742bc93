// A small Atlas Admin API client speaking HTTP Digest the way Atlas's own clients do: the
// library's seed and export, and the CLI's seed, export and reset, drive the server through
// the same API and role checks as any other client.
import { digestAuthorizationHeader } from '../http/auth/digest.js';
import { operationById } from '../protocol/router.js';

export interface AdminClientOptions {
  baseUrl: string;
  publicKey: string;
  privateKey: string;
}

export interface AdminResponse {
  status: number;
  /** The parsed JSON body, or undefined for an empty or non-JSON one. */
  json: Record<string, unknown> | undefined;
}

export interface AdminClient {
  /** Calls an Atlas operation by its operationId, at the latest version it serves. */
  operation(operationId: string, params: Record<string, string>, body?: unknown): Promise<AdminResponse>;
  /** Calls a path outside the Atlas operations (the emulator's own routes). */
  request(method: string, path: string, body?: unknown): Promise<AdminResponse>;
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  let nonce: string | undefined;
  let count = 0;

  const send = (method: string, url: URL, accept: string, body: string | undefined): Promise<Response> => {
    const headers: Record<string, string> = { Accept: accept };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (nonce) {
      count += 1;
      headers['Authorization'] = digestAuthorizationHeader({
        method, uri: `${url.pathname}${url.search}`, username: options.publicKey, password: options.privateKey, nonce,
        nc: count.toString(16).padStart(8, '0'),
      });
    }
    return fetch(url, { method, headers, body });
  };

  const call = async (method: string, path: string, accept: string, body: unknown): Promise<AdminResponse> => {
      const url = new URL(path, options.baseUrl);
      const text = body === undefined ? undefined : JSON.stringify(body);
      let res = await send(method, url, accept, text);
      if (res.status === 401 && res.headers.get('www-authenticate')?.startsWith('Digest')) {
        await res.arrayBuffer();
        // A first call, or a nonce that went stale: answer the fresh challenge once.
        nonce = /nonce="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
        count = 0;
        res = await send(method, url, accept, text);
      }
      const raw = await res.text();
      let json: Record<string, unknown> | undefined;
      try {
        json = raw === '' ? undefined : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      return { status: res.status, json };
  };

  return {
    operation(operationId, params, body) {
      const op = operationById(operationId);
      const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
      const version = op.versions[op.versions.length - 1]!;
      return call(op.method, path, `application/vnd.atlas.${version}+json`, body);
    },
    request: (method, path, body) => call(method, path, 'application/json', body),
  };
}
