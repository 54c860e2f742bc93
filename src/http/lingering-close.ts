// Closing a connection while its client is still sending makes the kernel answer with a TCP
// reset, and a reset makes the client's side throw away what it has not read yet: the very
// answer (413, 400) that says why its body was refused. So a connection closed on a refused
// body closes as Apache and nginx close one ("lingering close"): the answer, then a FIN, then
// the client's remaining bytes read and dropped until it closes its side, LINGER_MS pass or it
// has sent LINGER_BYTES past the refusal. Every byte read goes through the HTTP parser on the
// event loop, and over a fast link 2 seconds are gigabytes: the byte bound keeps a refused
// client from making the server read (and parse) more than a few bodies' worth.
// Node's HTTP server has no such option: it destroys the socket (destroySoon) once a
// `Connection: close` answer is written, hence the override on that one socket.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a refused client may go on sending before the connection is destroyed. */
const LINGER_MS = 2_000;
/**
 * How much a refused client may send after the refusal before the connection is destroyed:
 * twice the largest body any operation takes (17 MiB, body.ts), so that a client sending a
 * body somewhat over the limit still reads the refusal.
 */
export const LINGER_BYTES = 34 * 1024 * 1024;
const lingering = new WeakSet<Socket>();

/** The connection will close after the answer to `req` (refused before its body was all read), lingering as above. */
export function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket;
  if (lingering.has(socket)) return;
  lingering.add(socket);
  // The rest of the body is read and dropped here, from now on (not only once the answer is
  // written, as Node would drop a body nobody read), and the bound checked at every piece the
  // parser hands over, so at every read of the socket. It counts the socket's bytes (chunked
  // framing included). What follows the body is a next request, which server.ts refuses by
  // destroying the connection, or bytes the parser refuses.
  const readAtRefusal = socket.bytesRead;
  req.on('data', () => {
    if (socket.bytesRead - readAtRefusal > LINGER_BYTES) socket.destroy();
  });
  socket.destroySoon = function lingeringClose(this: Socket): void {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    this.once('close', () => clearTimeout(timer));
  };
}

/** A request that came in after a refused body on a closing connection: it is not served. */
export function isLingering(socket: Socket): boolean {
  return lingering.has(socket);
}
