// Latency of GET and DELETE of one connection as the store grows: 100 connections stored,
// then 10x, 100x, ... up to a million, seeded straight through the store (the API would take
// hours), every scale served at once by its own emulator and measured in interleaved rounds.
// A workspace holds at most 16 MiB of connections (WORKSPACE_STORAGE_BYTES), so the store's
// connections are spread over workspaces of at most PER_WORKSPACE each, the measured one first.
// GETs go past the response cache (which would answer the 100 names of the smallest scale from
// memory and few of the larger ones), so every scale measures the store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCEPT, makeInstance, streamsUrl } from './lib/fixtures.mjs';
import { runPool } from './lib/pool.mjs';
import { bearerToken, startEmulator } from './lib/processes.mjs';
import { figure, fmt } from './lib/stats.mjs';

const { openSqliteStore } = await import('../dist/store/sqlite.js');
const { STREAMS_KIND } = await import('../dist/domain/streams/common.js');
const { newObjectId } = await import('../dist/crypto/ids.js');

const PER_WORKSPACE = 10_000;

/** n stored connections, all alike but for id and name: c0..c(min(n, PER_WORKSPACE)-1) under instance `big`, the rest under copies of it. */
async function seededEmulator(n) {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-scale-${n}-`));
  const first = await startEmulator({ dataDir });
  const token = await bearerToken(first);
  await makeInstance(first, token, 'big', 1);
  await first.stop();
  const store = openSqliteStore({ path: join(dataDir, 'atlas-streams.db') });
  await store.transaction(async (tx) => {
    const instance = await tx.getByName(STREAMS_KIND.instance, first.projectId, 'big');
    const template = await tx.getByName(STREAMS_KIND.connection, instance._id, 'c0');
    let workspace = instance;
    for (let i = 1; i < n; i++) {
      if (i % PER_WORKSPACE === 0) {
        const _id = newObjectId();
        workspace = { ...instance, _id, name: `big${i / PER_WORKSPACE}` };
        await tx.insert(STREAMS_KIND.instance, { id: _id, parentId: first.projectId, name: workspace.name }, workspace);
      }
      const connection = { ...template, id: newObjectId(), name: `c${i % PER_WORKSPACE}` };
      await tx.insert(STREAMS_KIND.connection, { id: connection.id, parentId: workspace._id, name: connection.name }, connection);
    }
  });
  await store.close();
  const emulator = await startEmulator({ dataDir });
  return { emulator, token: await bearerToken(emulator), stop: async () => { await emulator.stop(); rmSync(dataDir, { recursive: true, force: true }); } };
}

export async function runScaleBench({ quick }) {
  const scales = quick ? [100, 1000] : [100, 10_000, 100_000, 1_000_000];
  const rounds = quick ? 1 : 5;
  const seconds = quick ? 1 : 2;
  const started = performance.now();
  const servers = [];
  try {
    for (const n of scales) servers.push(await seededEmulator(n));
    const seedSeconds = (performance.now() - started) / 1000;
    const get = scales.map(() => []);
    const del = scales.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, n] of scales.entries()) {
        const { emulator, token } = servers[i];
        const job = { seconds, processes: 1, clients: 4, names: Math.min(n, PER_WORKSPACE), url: streamsUrl(emulator, '/big/connections'), headers: { Accept: ACCEPT, Authorization: `Bearer ${token}` } };
        const g = await runPool('getOne', { ...job, uncached: true });
        const d = await runPool('seed', { ...job, timeOnly: 'delete' });
        if (g.errors || d.errors) throw new Error(`${n} connections: ${g.errors + d.errors} wrong answers`);
        get[i].push(g);
        del[i].push(d);
      }
    }
    const figures = [];
    for (const [label, samples] of [['GET', get], ['DELETE', del]]) {
      const base = samples[0].map((s) => s.p50);
      const curve = scales.map((n, i) => `${fmt(n)}: p50 ${samples[i].map((s) => s.p50).sort((a, b) => a - b)[Math.floor(rounds / 2)].toFixed(2)} ms`).join(', ');
      const last = scales.length - 1;
      figures.push(figure(`scale.${label.toLowerCase()}`, `${label} one connection, ${fmt(scales[last])} stored, per ${fmt(scales[0])} (p50 latency, 4 clients${label === "GET" ? ", past the response cache" : ""})`,
        samples[last].map((s, r) => s.p50 / base[r]), {
          target: 1.3, lowerIsBetter: true, baseline: `${fmt(scales[0])} stored`,
          detail: `${curve}; intermediate ratios ${scales.slice(1, -1).map((n, j) => `${fmt(n)}: ${(samples[j + 1].reduce((a, s, r) => a + s.p50 / base[r], 0) / rounds).toFixed(2)}`).join(', ') || 'none'}; seeding took ${seedSeconds.toFixed(0)} s`,
        }));
    }
    return figures;
  } finally {
    for (const s of servers) await s.stop();
  }
}
