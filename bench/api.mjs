// Control-plane benchmarks. Every figure is a ratio to a baseline measured in the same run:
// a bare node:http server answering a fixed JSON document, driven by the same generator
// (wrk where it can express the load, the Node pool of pool-worker.mjs where it cannot),
// in interleaved rounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GIVEN_BACK_AFTER_QUIET_MS } from '../dist/observability/idle-memory.js';
import { ACCEPT, makeInstance, streamsUrl } from './lib/fixtures.mjs';
import { runPool } from './lib/pool.mjs';
import { bearerToken, cpuMs, rssMiB, sleep, startBare, startEmulator } from './lib/processes.mjs';
import { figure, fmt, median } from './lib/stats.mjs';
import { ensureWrk, runWrk } from './lib/wrk.mjs';

const CONNECTIONS = 32;

export async function runApiBench({ quick }) {
  const wrk = ensureWrk();
  const rounds = quick ? 1 : 5;
  const seconds = quick ? 1 : 3;
  const bare = await startBare();
  const emulator = await startEmulator();
  try {
    const token = await bearerToken(emulator);
    await makeInstance(emulator, token, 'bench', 1);
    await makeInstance(emulator, token, 'seed', CONNECTIONS);
    const bearer = { Accept: ACCEPT, Authorization: `Bearer ${token}` };
    const getUrl = streamsUrl(emulator, '/bench/connections/c0');
    const bareUrl = `${bare.url}/api/atlas/v2/groups/x/streams`;
    const pool = { seconds, processes: 2, clients: CONNECTIONS / 2 };
    // Compiled code first: on a busy machine the first rounds would otherwise measure V8 compiling the request path.
    await runWrk(wrk, getUrl, { connections: CONNECTIONS, seconds, headers: bearer });
    await runPool('digest', { ...pool, url: getUrl, headers: { Accept: ACCEPT }, publicKey: emulator.publicKey, privateKey: emulator.privateKey });
    const r = { wrkBare: [], wrkBearer: [], poolBare: [], poolBearer: [], digest: [], seed: [], bareP99: [] };
    const samples = { ...r };
    for (let round = 0; round < rounds; round++) {
      const wb = await withCpu(bare, () => runWrk(wrk, bareUrl, { connections: CONNECTIONS, seconds }), seconds);
      const we = await withCpu(emulator, () => runWrk(wrk, getUrl, { connections: CONNECTIONS, seconds, headers: bearer }), seconds);
      if (we.non2xx) throw new Error(`bearer GET: ${we.non2xx} answers were not 200`);
      const pb = await runPool('get', { ...pool, url: bareUrl });
      const pe = await withCpu(emulator, () => runPool('get', { ...pool, url: getUrl, headers: bearer }), seconds);
      const pd = await withCpu(emulator, () => runPool('digest', { ...pool, url: getUrl, headers: { Accept: ACCEPT }, publicKey: emulator.publicKey, privateKey: emulator.privateKey }), seconds);
      const ps = await runPool('seed', { ...pool, url: streamsUrl(emulator, '/seed/connections'), headers: bearer, names: CONNECTIONS });
      for (const [name, result] of Object.entries({ pe, pd, ps })) if (result.errors) throw new Error(`${name}: ${result.errors} wrong answers`);
      Object.entries({ wrkBare: wb, wrkBearer: we, poolBare: pb, poolBearer: pe, digest: pd, seed: ps }).forEach(([k, v]) => samples[k].push(v));
    }
    const rps = (k) => samples[k].map((s) => s.rps ?? s.opsPerSec);
    const cpu = (k) => samples[k].map((s) => s.cpuMicrosPerRequest);
    const per = (a, b, f) => a.map((x, i) => f(x, b[i]));
    const figures = [
      figure('api.bearerGet', 'GET one connection, bearer (wrk)', per(rps('wrkBearer'), rps('wrkBare'), (a, b) => a / b), {
        target: 0.5, baseline: `bare node:http ${fmt(median(rps('wrkBare')))} req/s`,
        detail: `${fmt(median(rps('wrkBearer')))} req/s; p99 ${ms(median(samples.wrkBearer.map((s) => s.p99)))} vs bare ${ms(median(samples.wrkBare.map((s) => s.p99)))}`,
      }),
      figure('api.bearerGetCpu', 'GET one connection, bearer: CPU time per request, bare per emulator (wrk)', per(cpu('wrkBare'), cpu('wrkBearer'), (a, b) => a / b), {
        target: 0.5, baseline: `bare node:http ${median(cpu('wrkBare')).toFixed(1)} µs of CPU a request`,
        detail: `emulator ${median(cpu('wrkBearer')).toFixed(1)} µs a request (user + system time of each server process over its run; a busy machine raises both, so only rounds run side by side compare)`,
      }),
      figure('api.digest', 'GET, Digest both legs, per bearer GET (Node pool)', per(rps('digest'), rps('poolBearer'), (a, b) => a / b), {
        target: 0.4, baseline: `bearer GET from the pool ${fmt(median(rps('poolBearer')))} req/s`,
        detail: `${fmt(median(rps('digest')))} two-leg calls/s; pool ceiling on bare ${fmt(median(rps('poolBare')))} req/s (wrk: ${fmt(median(rps('wrkBare')))})`,
      }),
      figure('api.digestCpu', 'GET, Digest both legs: CPU time per call, bearer GET per Digest (Node pool)', per(cpu('poolBearer'), cpu('digest'), (a, b) => a / b), {
        target: 0.4, baseline: `bearer GET ${median(cpu('poolBearer')).toFixed(1)} µs of server CPU a call`,
        detail: `Digest (challenge, then the answer) ${median(cpu('digest')).toFixed(1)} µs a call`,
      }),
      figure('api.seedP99', `seed op (DELETE + create) p99, ${CONNECTIONS} clients, per bare p99`, per(samples.seed.map((s) => s.p99), samples.poolBare.map((s) => s.p99), (a, b) => a / b), {
        target: 4, lowerIsBetter: true, baseline: `bare p99 ${ms(median(samples.poolBare.map((s) => s.p99)))} (same pool, ${CONNECTIONS} clients)`,
        detail: `seed p99 ${ms(median(samples.seed.map((s) => s.p99)))}, p50 ${ms(median(samples.seed.map((s) => s.p50)))}, ${fmt(median(rps('seed')))} ops/s`,
      }),
    ];
    return figures;
  } finally {
    await bare.stop();
    await emulator.stop();
  }
}

/**
 * Idle memory of fresh processes, and after a million requests (fewer in quick mode): the
 * emulator's, and bare node:http's after the same load, each read the same quiet time after its
 * own load: long enough for the emulator to give back the young generation a burst grew, which
 * it does after about a minute of quiet (src/observability/idle-memory.ts; bare node:http keeps it). The emulator keeps its
 * data in a directory, as `npm start` does: in memory, the audit trail of a million calls
 * would be counted as the server's own memory.
 */
export async function runMemoryBench({ quick }) {
  const wrk = ensureWrk();
  const requests = quick ? 20_000 : 1_000_000;
  const capSeconds = quick ? 1 : 120;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  const bare = await startBare();
  const emulator = await startEmulator({ dataDir });
  const settle = quick ? 300 : 1000;
  // Quick mode proves the figure is measured, not the giving back (asserts nothing about memory).
  const quietMs = quick ? 1000 : GIVEN_BACK_AFTER_QUIET_MS + 2000;
  try {
    await sleep(settle);
    const bareIdle = rssMiB(bare.child.pid);
    const emulatorIdle = rssMiB(emulator.child.pid);
    const token = await bearerToken(emulator);
    await makeInstance(emulator, token, 'bench', 1);
    const url = streamsUrl(emulator, '/bench/connections/c0');
    const headers = { Accept: ACCEPT, Authorization: `Bearer ${token}` };
    const bareUrl = `${bare.url}/api/atlas/v2/groups/x/streams`;
    for (const [target, h] of [[url, headers], [bareUrl, {}]]) await runWrk(wrk, target, { connections: CONNECTIONS, seconds: 1, headers: h });
    await sleep(settle);
    const warmIdle = rssMiB(emulator.child.pid);
    const bareWarm = rssMiB(bare.child.pid);
    const heapIdle = await heapOf(emulator);
    // Each server is read the same quiet time after its own load: what a server gives back
    // once a burst is over, not what it holds in the middle of one.
    const load = await loadUntil(wrk, url, headers, requests, capSeconds, () => rssMiB(emulator.child.pid));
    await sleep(quietMs);
    const after = rssMiB(emulator.child.pid);
    const heapAfter = await heapOf(emulator);
    const bareLoad = await loadUntil(wrk, bareUrl, {}, load.served, capSeconds, () => rssMiB(bare.child.pid));
    await sleep(quietMs);
    const bareAfter = rssMiB(bare.child.pid);
    return [
      figure('memory.idle', 'idle memory (RSS), fresh process, per bare', [emulatorIdle / bareIdle], {
        target: 2, lowerIsBetter: true, baseline: `bare ${bareIdle.toFixed(1)} MiB`, detail: `emulator ${emulatorIdle.toFixed(1)} MiB`,
      }),
      figure('memory.afterLoad', `RSS after ${fmt(load.served)} requests (${quietMs / 1000} s later), per idle (warm)`, [after / warmIdle], {
        target: 1.1, lowerIsBetter: true, baseline: `idle after warm-up ${warmIdle.toFixed(1)} MiB`,
        detail: `${after.toFixed(1)} MiB ${quietMs / 1000} s after the load (peak ${load.peak.toFixed(1)} MiB)${load.served < requests ? `; only ${fmt(load.served)} of ${fmt(requests)} requests within ${capSeconds} s` : ''}; `
          + `V8 heap used ${heapIdle.used.toFixed(1)} -> ${heapAfter.used.toFixed(1)} MiB, young generation ${heapIdle.young.toFixed(1)} -> ${heapAfter.young.toFixed(1)} MiB; `
          + `bare node:http after ${fmt(bareLoad.served)} requests: ${bareWarm.toFixed(1)} -> ${bareAfter.toFixed(1)} MiB (${(bareAfter / bareWarm).toFixed(2)} of its idle)`,
      }),
    ];
  } finally {
    await bare.stop();
    await emulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** wrk in chunks of at most 10 s until `requests` are served or capSeconds pass; the requests served and the peak of measure(). */
async function loadUntil(wrk, url, headers, requests, capSeconds, measure) {
  let served = 0;
  let peak = measure();
  const deadline = Date.now() + capSeconds * 1000;
  while (served < requests && Date.now() < deadline) {
    const chunk = Math.max(1, Math.min(10, Math.ceil((deadline - Date.now()) / 1000)));
    const result = await runWrk(wrk, url, { connections: CONNECTIONS, seconds: chunk, headers });
    served += Math.round(result.rps * chunk);
    peak = Math.max(peak, measure());
  }
  return { served, peak };
}

/** The emulator's V8 heap (MiB) as its /metrics reports it: used, and the young generation's size. */
async function heapOf(emulator) {
  const text = await (await fetch(`${emulator.url}/metrics`)).text();
  const value = (pattern) => Number(pattern.exec(text)?.[1] ?? NaN) / 1048576;
  return { used: value(/^atlas_streams_nodejs_heap_size_used_bytes (\S+)/m), young: value(/^atlas_streams_nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)/m) };
}

/** Runs a load (wrk or the pool) against one server process and adds its CPU time per request or operation (µs). */
async function withCpu(server, load, seconds) {
  const before = cpuMs(server.child.pid);
  const result = await load();
  return { ...result, cpuMicrosPerRequest: ((cpuMs(server.child.pid) - before) * 1000) / (result.ops ?? result.rps * seconds) };
}

const ms = (n) => `${n.toFixed(2)} ms`;
