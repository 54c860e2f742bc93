// A processor that takes the whole server down must not do it again at every boot: each
// boot that resumes it counts, a saved checkpoint clears the count, and after three boots in
// a row without one it stays FAILED and says why. The crash is a real SIGKILL of the server
// process (whatever a pipeline could do to a process, it cannot do more than that).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCEPT, callDigest, type ApiKeyCredentials } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../src/testing/server-process.js';
import { samplePipeline } from '../streams-fixtures.js';

/**
 * Stands in for a pipeline that takes the process down: its one document holds the worker
 * (O(n²) in $reduce), so it never saves a checkpoint however long a boot lasts.
 */
const NEVER_CHECKPOINTS = [
  { $source: { documents: [{ n: 1 }] } },
  { $addFields: { x: { $reduce: { input: { $range: [0, 3_000_000] }, initialValue: [], in: { $concatArrays: ['$$value', ['$$this']] } } } } },
  { $emit: { connectionName: '__testLog' } },
];

const dataDir = mkdtempSync(join(tmpdir(), 'ase-boot-guard-'));
let server: ServerProcess | undefined;
afterAll(async () => {
  if (server) await stopServerProcess(server.child, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const boot = async () => { server = await startServerProcess(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']); return server; };
const crash = async () => { await stopServerProcess(server!.child, 'SIGKILL'); server = undefined; };

describe('boot', () => {
  it('stops resuming a processor after three boots in a row that ended before it saved a checkpoint', async () => {
    let s = await boot();
    const owner: ApiKeyCredentials = { publicKey: s.publicKey, privateKey: s.privateKey };
    const streams = () => `${server!.url}/api/atlas/v2/groups/${s.projectId}/streams`;
    const state = async (name: string) => (await callDigest(`${streams()}/boot/processor/${name}`, owner, { accept: ACCEPT.processors })).json;
    expect((await callDigest(streams(), owner, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'boot', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, sampleConnections: { solar: true } } })).status).toBe(200);
    for (const [name, pipeline] of [['crashy', NEVER_CHECKPOINTS], ['healthy', samplePipeline()]] as const) {
      expect((await callDigest(`${streams()}/boot/processor`, owner, { method: 'POST', accept: ACCEPT.processors, body: { name, pipeline } })).status).toBe(200);
      expect((await callDigest(`${streams()}/boot/processor/${name}:start`, owner, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    }
    // A clean stop of the server takes a final checkpoint: healthy's count starts over each
    // time. crashy's stuck worker cannot take one, so this boot is its first that counts.
    await stopServerProcess(s.child);
    s = await boot();
    expect((await state('healthy')).state).toBe('STARTED');
    expect((await state('crashy')).state).toBe('STARTED');
    for (let i = 0; i < 2; i++) {
      await crash();
      s = await boot();
      expect((await state('crashy')).state).toBe('STARTED');
    }
    await crash();
    s = await boot();
    const crashy = await state('crashy');
    expect(crashy.state).toBe('FAILED');
    expect(crashy.stats.errorMsg).toBe('the stream processor was not resumed: the server stopped 3 times in a row while it ran, '
      + 'each time before it could save a checkpoint, so it may be what takes the server down; fix the pipeline and start it again');
    // Starting it again is the user's call, and gives it a fresh count.
    expect((await callDigest(`${streams()}/boot/processor/crashy:start`, owner, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    expect((await state('crashy')).state).toBe('STARTED');
    await crash();
    s = await boot();
    expect((await state('crashy')).state).toBe('STARTED');
    await stopServerProcess(s.child);
    server = undefined;
  }, 120_000);
});
