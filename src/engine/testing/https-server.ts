// Local HTTP(S) servers that record what they receive; the HTTPS one has a self-signed
// certificate made at test time by openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestHttpsServer {
  url: string;
  certificate: string;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  stop(): Promise<void>;
}

export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'engine-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string, raw: Buffer) => void;

export async function startHttpsServer(handler: Handler): Promise<TestHttpsServer> {
  const { key, cert } = selfSignedCertificate();
  const recorded = await listenRecording((listener) => createServer({ key, cert }, listener), handler);
  return { ...recorded, url: `https://127.0.0.1:${recorded.port}`, certificate: cert };
}

/** A plain HTTP server that records every request (local stand-ins for cloud services and registries). */
export async function startHttpServer(handler: Handler): Promise<Omit<TestHttpsServer, 'certificate'>> {
  const recorded = await listenRecording((listener) => createHttpServer(listener), handler);
  return { ...recorded, url: `http://127.0.0.1:${recorded.port}` };
}

async function listenRecording(
  create: (listener: (req: IncomingMessage, res: ServerResponse) => void) => HttpServer | Server,
  handler: Handler,
): Promise<{ port: number; requests: TestHttpsServer['requests']; stop(): Promise<void> }> {
  const requests: TestHttpsServer['requests'] = [];
  const server = create((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    requests,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
