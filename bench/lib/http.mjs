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

export function digestHeader(url, method, publicKey, privateKey, nonce) {
  const md5 = (t) => createHash('md5').update(t).digest('hex');
  const { pathname, search } = new URL(url);
  const uri = pathname + search;
  const cnonce = randomBytes(8).toString('hex');
  const response = md5(`${md5(`${publicKey}:MMS Public API:${privateKey}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${publicKey}", realm="MMS Public API", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", nc=00000001, qop=auth`;
}
