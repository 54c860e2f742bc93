// A keep-alive HTTP client and the Digest answer, for the benches that drive the API from
// their own process without the worker pool (hostile load, checkpoint stall).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export function request(url, headers = {}) {
  return new Promise((resolveRequest, reject) => {
    const req = http.request(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveRequest({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * What does not change between calls to one target with one key, hashed once as a client can:
 * the load pool shares the server's cores, so every microsecond it spends is one the server
 * does not get, and the figure is the server's.
 */
export function digestTarget(url, method, publicKey, privateKey) {
  const { pathname, search } = new URL(url);
  const uri = pathname + search;
  return { publicKey, uri, ha1: md5(`${publicKey}:MMS Public API:${privateKey}`), ha2: md5(`${method}:${uri}`) };
}

/** The Authorization header answering `nonce` for a target from digestTarget. */
export function digestAnswer({ publicKey, uri, ha1, ha2 }, nonce) {
  const cnonce = randomBytes(8).toString('hex');
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
  return `Digest username="${publicKey}", realm="MMS Public API", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", nc=00000001, qop=auth`;
}

export function digestHeader(url, method, publicKey, privateKey, nonce) {
  return digestAnswer(digestTarget(url, method, publicKey, privateKey), nonce);
}

const md5 = (t) => createHash('md5').update(t).digest('hex');
