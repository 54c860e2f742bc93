// The harness's callers use the global fetch, which cannot be told to trust a test CA
// after the process has started. These do the same over node:https with an explicit CA,
// so a test can check the server's state while the client under test speaks HTTPS.
import { request as httpsRequest } from 'node:https';
import { digestAuthorization, requestParts, type ApiKeyCredentials, type CallOptions, type CallResult } from '../../../src/testing/harness.js';

export async function callTls(url: string, ca: string, options: CallOptions = {}, authorization?: string): Promise<CallResult> {
  const { headers, body } = requestParts(options, authorization);
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise<CallResult>((resolve, reject) => {
    const req = httpsRequest(url, { method: options.method ?? 'GET', headers, ca, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The two-leg Digest flow of Atlas's clients, over HTTPS with the given CA. */
export async function callDigestTls(url: string, ca: string, credentials: ApiKeyCredentials, options: CallOptions = {}): Promise<CallResult> {
  const first = await callTls(url, ca, options);
  if (first.status !== 401) return first;
  const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate') ?? '')?.[1];
  if (!nonce) return first;
  return callTls(url, ca, options, digestAuthorization(url, options.method ?? 'GET', credentials, nonce));
}
