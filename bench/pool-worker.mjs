// One process of the Node load pool (lib/pool.mjs): what wrk cannot script, Digest's two
// legs and the DELETE-then-create seed loop, run by `clients` concurrent keep-alive clients
// for a bounded time and count. Prints one JSON line: ops, errors and each op's latency (ms).
import http from 'node:http';
import { digestAnswer, digestTarget } from './lib/http.mjs';

const job = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: job.clients });

function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolveRequest, reject) => {
    const req = http.request(url, { agent, method, headers: body ? { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolveRequest({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const target = job.publicKey && digestTarget(job.url, 'GET', job.publicKey, job.privateKey);

/** Each scenario does one operation for client `k`, iteration `j`; returns false on a wrong answer. */
const scenarios = {
  async get() {
    const res = await request(job.url, { headers: job.headers });
    return res.status === 200;
  },
  async digest() {
    const first = await request(job.url, { headers: job.headers });
    const nonce = /nonce="([^"]+)"/.exec(first.headers['www-authenticate'] ?? '')?.[1];
    if (!nonce) return false;
    const second = await request(job.url, { headers: { ...job.headers, Authorization: digestAnswer(target, nonce) } });
    return second.status === 200;
  },
  /** GET of one of `names` stored connections, spread over them. */
  async getOne(k, j) {
    // `uncached`: a query parameter the API ignores makes every target new to the server's
    // response cache, so the read goes to the store whatever the number of names.
    const res = await request(`${job.url}/c${pick(k, j)}${job.uncached ? `?read=${process.pid}.${k}.${j}` : ''}`, { headers: job.headers });
    return res.status === 200;
  },
  /** The seed operation: DELETE a connection, then create it again (timed as one op unless `timeOnly` says which leg). */
  async seed(k, j, time) {
    const name = `c${pick(k, j)}`;
    const started = performance.now();
    const deleted = await request(`${job.url}/${name}`, { method: 'DELETE', headers: job.headers });
    const afterDelete = performance.now();
    const created = await request(job.url, { method: 'POST', headers: job.headers, body: JSON.stringify({ name, type: 'Https', url: 'https://example.com/hook' }) });
    time(job.timeOnly === 'delete' ? afterDelete - started : performance.now() - started);
    return deleted.status === 202 && created.status === 200;
  },
};

/** Clients never share a name: client k takes k, k + P*C, ... of the `names` (P processes of C clients). */
function pick(k, j) {
  const stride = job.clients * job.processes;
  return (job.processIndex * job.clients + k + j * stride) % job.names;
}

const run = scenarios[job.scenario];
const begun = performance.now();
const deadline = performance.now() + job.seconds * 1000;
const latencies = [];
let ops = 0;
let errors = 0;
await Promise.all(Array.from({ length: job.clients }, async (_, k) => {
  for (let j = 0; performance.now() < deadline && ops < job.maxOps; j++) {
    const started = performance.now();
    let timed;
    const ok = await run(k, j, (ms) => { timed = ms; }).catch(() => false);
    latencies.push(timed ?? performance.now() - started);
    ops += 1;
    if (!ok) errors += 1;
  }
}));
process.stdout.write(`${JSON.stringify({ ops, errors, ms: performance.now() - begun, latencies: latencies.map((l) => Math.round(l * 1000) / 1000) })}\n`);
agent.destroy();
