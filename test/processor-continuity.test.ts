// A processor's stats resume from its checkpoint after a stop and start and after a server
// restart on the same data directory, and a stopped processor's last output stays readable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/library.js';
import { ACCEPT, callDigest } from '../src/testing/harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ase-continuity-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const DOCUMENTS = [{ reading: 1 }, { reading: 2 }, { reading: 3 }];

function processorUrl(emulator: Emulator, action = ''): string {
  return `${emulator.baseUrl}/api/atlas/v2/groups/${emulator.credentials.projectId}/streams/ws/processor/finite${action}`;
}

async function stats(emulator: Emulator): Promise<{ state: string; stats: Record<string, unknown> }> {
  const res = await callDigest(processorUrl(emulator), emulator.credentials, { accept: ACCEPT.processors });
  return res.json;
}

/** Stats once the worker reports them running: what it resumed with, before anything new could come. */
async function runningStats(emulator: Emulator): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> = {};
  await vi.waitFor(async () => {
    seen = (await stats(emulator)).stats;
    expect(seen['status']).toBe('running');
  }, { timeout: 30_000, interval: 100 });
  return seen;
}

async function output(emulator: Emulator): Promise<{ status: number; lines: unknown[] }> {
  const res = await callDigest(`${emulator.baseUrl}/emulator/v1/groups/${emulator.credentials.projectId}/streams/ws/processor/finite/output`, emulator.credentials);
  return { status: res.status, lines: res.status === 200 ? res.text.trim().split('\n').map((line) => JSON.parse(line)) : res.json };
}

it('keeps the counts across stop and start and a restart, and shows a stopped processor its last output', async () => {
  // The same seed both times: the same ready credentials, adopted again by the second start.
  let emulator = await startEmulator({ dataDir, deterministicSeed: 'continuity' });
  try {
    await emulator.seed({ projects: [{ name: 'Local-Project', workspaces: [{ name: 'ws', processors: [{
      name: 'finite', state: 'STARTED', pipeline: [{ $source: { documents: DOCUMENTS } }, { $emit: { connectionName: '__testLog' } }],
    }] }] }] });
    await vi.waitFor(async () => expect((await stats(emulator)).stats).toMatchObject({ inputMessageCount: 3, outputMessageCount: 3 }), { timeout: 30_000, interval: 100 });

    expect((await callDigest(processorUrl(emulator, ':stop'), emulator.credentials, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    await vi.waitFor(async () => {
      const stopped = await output(emulator);
      expect(stopped.status).toBe(200);
      expect(stopped.lines).toEqual(DOCUMENTS.map((d) => expect.objectContaining(d)));
    }, { timeout: 30_000, interval: 200 });
    // sp.processor.stats() of a stopped processor: its figures at the stop, not zeros.
    const whileStopped = await stats(emulator);
    expect(whileStopped.state).toBe('STOPPED');
    expect(whileStopped.stats).toMatchObject({ status: 'stopped', inputMessageCount: 3, outputMessageCount: 3 });

    expect((await callDigest(processorUrl(emulator, ':start'), emulator.credentials, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    expect(await runningStats(emulator)).toMatchObject({ inputMessageCount: 3, outputMessageCount: 3 });
  } finally {
    await emulator.close();
  }

  emulator = await startEmulator({ dataDir, deterministicSeed: 'continuity' });
  try {
    expect((await stats(emulator)).state).toBe('STARTED');
    const resumed = await runningStats(emulator);
    expect(resumed).toMatchObject({ inputMessageCount: 3, outputMessageCount: 3 });
    expect((resumed['operatorStats'] as Array<{ name: string; inputMessageCount: number }>).map((o) => [o.name, o.inputMessageCount]))
      .toEqual([['$source', 3], ['$emit', 3]]);
  } finally {
    await emulator.close();
  }
});

it('refuses the output of a processor that never ran with a clear message', async () => {
  const emulator = await startEmulator();
  try {
    await emulator.seed({ projects: [{ name: 'Local-Project', workspaces: [{ name: 'ws', processors: [{
      name: 'finite', pipeline: [{ $source: { documents: DOCUMENTS } }, { $emit: { connectionName: '__testLog' } }],
    }] }] }] });
    const never = await output(emulator);
    expect(never).toEqual({ status: 400, lines: expect.objectContaining({
      errorCode: 'STREAM_PROCESSOR_GENERIC_ERROR',
      detail: 'Streams Processor with this name (finite) had a problem occur: the stream processor is not running and has no output to show.',
    }) });
  } finally {
    await emulator.close();
  }
});

it('starts again on the same data directory with fresh ready credentials', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ase-library-restart-'));
  try {
    const first = await startEmulator({ dataDir: dir });
    const { projectId } = first.credentials;
    await first.close();
    const second = await startEmulator({ dataDir: dir });
    try {
      expect(second.credentials.projectId).toBe(projectId);
      const project = await callDigest(`${second.baseUrl}/api/atlas/v2/groups/${projectId}`, second.credentials, { accept: ACCEPT.identity });
      expect(project.status).toBe(200);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
