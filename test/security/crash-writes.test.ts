// Durability of acknowledged writes: the server process is killed hard (SIGKILL) while
// several clients write, KILLS times over the same data directory; after every restart each
// write the server had acknowledged (answered 200) is there. Writes cut off by the kill may
// or may not have landed; nothing else is allowed to be missing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCEPT, callDigest, type ApiKeyCredentials } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../src/testing/server-process.js';

const KILLS = 10;
const WRITERS = 6;
/** Acknowledged writes to wait for in each round before the kill (bounded by ROUND_MS too). */
const ACKS_PER_ROUND = 30;
const ROUND_MS = 20_000;

const dataDir = mkdtempSync(join(tmpdir(), 'ase-crash-writes-'));
const owner: ApiKeyCredentials = { publicKey: 'crashkey', privateKey: '5a1f6a0e-0000-4000-8000-00000000c0de' };
const env = { MONGODB_ATLAS_PUBLIC_KEY: owner.publicKey, MONGODB_ATLAS_PRIVATE_KEY: owner.privateKey };
let server: ServerProcess | undefined;

afterAll(async () => {
  if (server) await stopServerProcess(server.child, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function start(): Promise<ServerProcess> {
  return startServerProcess(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], env);
}

const connections = (s: ServerProcess) => `${s.url}/api/atlas/v2/groups/${s.projectId}/streams/crash/connections`;

/** Every connection name stored, all pages. */
async function storedNames(s: ServerProcess): Promise<Set<string>> {
  const names = new Set<string>();
  for (let page = 1; ; page++) {
    const res = await callDigest(`${connections(s)}?itemsPerPage=500&pageNum=${page}`, owner, { accept: ACCEPT.streams });
    expect(res.status, res.text).toBe(200);
    for (const c of res.json.results as Array<{ name: string }>) names.add(c.name);
    if ((res.json.results as unknown[]).length < 500) return names;
  }
}

describe('SIGKILL under concurrent writes', () => {
  it(`keeps every acknowledged write across ${KILLS} kills`, async () => {
    server = await start();
    const created = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams`, owner, {
      method: 'POST', accept: ACCEPT.streams, body: { name: 'crash', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
    });
    expect(created.status, created.text).toBe(200);
    const acknowledged = new Set<string>();
    let kills = 0;
    for (let round = 0; round < KILLS; round++) {
      const s: ServerProcess = server;
      let acksThisRound = 0;
      let killed = false;
      const writer = async (w: number) => {
        for (let n = 0; !killed; n++) {
          const name = `r${round}-w${w}-${n}`;
          try {
            const res = await callDigest(connections(s), owner, {
              method: 'POST', accept: ACCEPT.streams, body: { name, type: 'Https', url: `https://127.0.0.1:9/${name}` },
            });
            if (res.status === 200) {
              acknowledged.add(name);
              acksThisRound++;
            } else if (!killed) {
              throw new Error(`write ${name} answered ${res.status}: ${res.text}`);
            }
          } catch (error) {
            if (!killed) throw error;
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      const deadline = Date.now() + ROUND_MS;
      while (acksThisRound < ACKS_PER_ROUND && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Kill while the writers are still sending: their requests in flight fail, and from now
      // on a failure is expected (an answer that still arrives is an acknowledgement all the same).
      killed = true;
      await stopServerProcess(s.child, 'SIGKILL');
      kills++;
      await Promise.all(writers);
      expect(acksThisRound, `round ${round} acknowledged writes before the kill`).toBeGreaterThan(0);

      server = await start();
      const stored = await storedNames(server);
      const lost = [...acknowledged].filter((name) => !stored.has(name));
      expect(lost, `acknowledged writes missing after kill ${kills}`).toEqual([]);
    }
    expect(kills).toBe(KILLS);
    console.log(`crash: ${kills} SIGKILLs, ${acknowledged.size} acknowledged writes, all found after every restart`);
    await stopServerProcess(server.child);
    server = undefined;
  }, 300_000);
});
