// A client that writes bytes to the server exactly as told (half a body, headers a byte at a
// time, then silence) and reads back whatever comes, for what fetch will not do.
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with everything received once the server closes its side, or after maxMs regardless (closed false). */
  closed(maxMs: number): Promise<{ closed: boolean; text: string }>;
  /** Resolves once text matching pattern has arrived; undefined after maxMs or once the server closes without it. */
  waitFor(pattern: RegExp, maxMs: number): Promise<string | undefined>;
}

export function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let ended = false;
    const waiters = new Set<() => void>();
    const wake = () => waiters.forEach((w) => w());
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); wake(); });
    socket.on('close', () => { ended = true; wake(); });
    socket.on('error', () => { ended = true; wake(); });
    const until = <T>(done: () => T | undefined, maxMs: number, fallback: () => T): Promise<T> => new Promise((res) => {
      const check = () => {
        const value = done();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        res(value);
      };
      const timer = setTimeout(() => { waiters.delete(check); res(fallback()); }, maxMs);
      waiters.add(check);
      check();
    });
    socket.once('connect', () => resolve({
      socket,
      received: () => text,
      closed: (maxMs) => until(() => (ended ? { closed: true, text } : undefined), maxMs, () => ({ closed: false, text })),
      // Gives up early when the server hangs up without having sent it.
      waitFor: (pattern, maxMs) => until<string | null>(() => (pattern.test(text) ? text : ended ? null : undefined), maxMs, () => null)
        .then((found) => found ?? undefined),
    }));
    socket.once('error', reject);
  });
}

/** The status and parsed JSON body of the first HTTP response in text. */
export function firstResponse(text: string): { status: number; headers: string; json: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const split = text.indexOf('\r\n\r\n');
  const headers = split < 0 ? text : text.slice(0, split);
  const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
  const body = split < 0 ? '' : text.slice(split + 4, split + 4 + length);
  let json: unknown;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status, headers, json };
}
