// Closing a connection while its client is still sending makes the kernel answer with a TCP
// reset, and a reset makes the client's side throw away what it has not read yet: the very
// answer (413, 400) that says why its body was refused. So a connection closed on a refused
// body closes as Apache and nginx close one ("lingering close"): the answer, then a FIN, then
// the client's remaining bytes read and dropped until it closes its side or LINGER_MS pass.
// Node's HTTP server has no such option: it destroys the socket (destroySoon) once a
// `Connection: close` answer is written, hence the override on that one socket.
import type { Socket } from 'node:net';

/** How long a refused client may go on sending before the connection is destroyed. */
const LINGER_MS = 2_000;
const lingering = new WeakSet<Socket>();

/** The connection will close after the answer now being given, lingering as above. */
export function lingerOnClose(socket: Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
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
