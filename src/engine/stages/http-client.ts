// One HTTP(S) request with a buffered response, for $https and $externalFunction.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface Response { status: number; body: string; contentType: string; headers: IncomingMessage['headers']; millis: number }

export interface RequestOptions {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  ca: string[] | undefined;
}

export function sendRequest(url: URL, options: RequestOptions): Promise<Response> {
  const started = performance.now();
  const headers = { ...options.headers };
  // Explicit: Node would neither chunk nor size a GET body, and the server would misread it.
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: options.method,
      headers,
      timeout: options.connectionTimeoutMs,
      ...(options.ca ? { ca: options.ca } : {}),
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        body: Buffer.concat(chunks).toString('utf8'),
        contentType: String(res.headers['content-type'] ?? ''),
        headers: res.headers,
        millis: performance.now() - started,
      }));
      res.on('error', reject);
    });
    req.setTimeout(options.requestTimeoutMs, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}
