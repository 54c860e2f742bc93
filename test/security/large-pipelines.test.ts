// Issue 8: a maximal (16 MB) pipeline must not hold the server for other clients. It is kept
// beside the database, as checkpoint states are, written and read in slices, and answered by
// splicing its stored text into the response. What can be seen from outside: the database
// stays small while a file in the data directory holds the pipeline; the pipeline comes back
// byte for byte (after a hard kill too); a replaced or deleted pipeline leaves no file behind.
// How long the event loop stalls meanwhile is measured by `node bench/hostile-load.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/http/body.js';
import { ACCEPT, callDigest, type ApiKeyCredentials } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../src/testing/server-process.js';
import { dataFiles } from './support/data-files.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ase-large-pipelines-'));
const owner: ApiKeyCredentials = { publicKey: 'largekey', privateKey: '5a1f6a0e-0000-4000-8000-00000000b10b' };
const env = { MONGODB_ATLAS_PUBLIC_KEY: owner.publicKey, MONGODB_ATLAS_PRIVATE_KEY: owner.privateKey };
let server: ServerProcess;

const start = () => startServerProcess(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], env);
const workspace = () => `${server.url}/api/atlas/v2/groups/${server.projectId}/streams/large`;

beforeAll(async () => {
  server = await start();
  const created = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams:withSampleConnections`, owner, {
    method: 'POST', accept: ACCEPT.serviceAccounts, body: { name: 'large', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
  });
  expect(created.status, created.text).toBe(200);
});
afterAll(async () => {
  await stopServerProcess(server.child, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** A pipeline whose body is as large as a create accepts; `marker` tells versions apart. Non-ASCII text included. */
function maximalPipeline(marker: string): unknown[] {
  const item = (i: number) => `${marker}-é-${String(i).padStart(7, '0')}-abcdefghijklmnopqrstuvwxyz`;
  const count = Math.floor((MAX_BODY_BYTES - 1024) / (Buffer.byteLength(JSON.stringify(item(0))) + 1));
  return [
    { $source: { connectionName: 'sample_stream_solar' } },
    { $match: { device_id: { $in: Array.from({ length: count }, (_, i) => item(i)) } } },
    { $emit: { connectionName: '__testLog' } },
  ];
}

/** Bytes of the database files (the SQLite database and its write-ahead log). */
function databaseBytes(): number {
  const files = dataFiles(dataDir).filter((f) => /^atlas-streams\.db(-wal)?$/.test(f.name));
  expect(files.length).toBeGreaterThan(0);
  return files.reduce((n, f) => n + f.bytes.length, 0);
}

/** The files that hold the processor's pipeline, by the processor's id. */
function pipelineFiles(processorId: string): Array<{ name: string; bytes: Buffer }> {
  return dataFiles(dataDir).filter((f) => f.name.startsWith(join('blobs', 'streamProcessor', processorId)));
}

describe('a maximal pipeline', () => {
  const first = maximalPipeline('first');
  const firstText = JSON.stringify(first);
  let processorId: string;

  it('is stored beside the database, not in it, and echoed byte for byte', async () => {
    const created = await callDigest(`${workspace()}/processor`, owner, { method: 'POST', accept: ACCEPT.processors, body: { name: 'big', pipeline: first } });
    expect(created.status, created.text.slice(0, 300)).toBe(200);
    expect(created.text).toContain(`"pipeline":${firstText}`);
    processorId = created.json._id as string;
    expect(Buffer.byteLength(firstText)).toBeGreaterThan(16 * 1024 * 1024);
    expect(databaseBytes()).toBeLessThan(2 * 1024 * 1024);
    expect(pipelineFiles(processorId).map((f) => f.bytes.toString('utf8') === firstText)).toEqual([true]);
  });

  it('comes back byte for byte from a read, a list, and a restart after a hard kill', async () => {
    const one = await callDigest(`${workspace()}/processor/big`, owner, { accept: ACCEPT.processors });
    expect(one.status).toBe(200);
    expect(one.text).toContain(`"pipeline":${firstText}`);
    expect({ name: one.json.name, state: one.json.state, stages: one.json.stats.operatorStats.map((s: { name: string }) => s.name) })
      .toEqual({ name: 'big', state: 'CREATED', stages: ['$source', '$match', '$emit'] });
    const listed = await callDigest(`${workspace()}/processors`, owner, { accept: ACCEPT.processors });
    expect(listed.status).toBe(200);
    expect(listed.text).toContain(`"pipeline":${firstText}`);
    expect(listed.json.totalCount).toBe(1);
    // The envelope and pretty printing lay the same pipeline out as for any other.
    const enveloped = await callDigest(`${workspace()}/processor/big?envelope=true`, owner, { accept: ACCEPT.processors });
    expect({ status: enveloped.json.status, stored: JSON.stringify(enveloped.json.content.pipeline) === firstText }).toEqual({ status: 200, stored: true });
    const pretty = await callDigest(`${workspace()}/processor/big?pretty=true`, owner, { accept: ACCEPT.processors });
    expect(pretty.text).toMatch(/^\{\n {2}"_id" : /);
    expect(JSON.stringify(JSON.parse(pretty.text).pipeline) === firstText).toBe(true);

    await stopServerProcess(server.child, 'SIGKILL');
    server = await start();
    const after = await callDigest(`${workspace()}/processor/big`, owner, { accept: ACCEPT.processors });
    expect(after.status).toBe(200);
    expect(after.text).toContain(`"pipeline":${firstText}`);
  });

  it('replaced by a modify leaves only the new one, a rename keeps it; a conflicting create leaves nothing', async () => {
    const second = maximalPipeline('second');
    const secondText = JSON.stringify(second);
    const modified = await callDigest(`${workspace()}/processor/big`, owner, { method: 'PATCH', accept: ACCEPT.processors, body: { pipeline: second } });
    expect(modified.status, modified.text.slice(0, 300)).toBe(200);
    expect(modified.text).toContain(`"pipeline":${secondText}`);
    expect(pipelineFiles(processorId).map((f) => f.bytes.toString('utf8') === secondText)).toEqual([true]);
    const versionFile = pipelineFiles(processorId)[0]!.name;

    // A modify that leaves the pipeline as it is keeps its file.
    const renamed = await callDigest(`${workspace()}/processor/big`, owner, { method: 'PATCH', accept: ACCEPT.processors, body: { name: 'renamed' } });
    expect(renamed.status, renamed.text.slice(0, 300)).toBe(200);
    expect(renamed.text).toContain(`"pipeline":${secondText}`);
    expect(pipelineFiles(processorId).map((f) => f.name)).toEqual([versionFile]);

    const conflict = await callDigest(`${workspace()}/processor`, owner, { method: 'POST', accept: ACCEPT.processors, body: { name: 'renamed', pipeline: first } });
    expect({ status: conflict.status, errorCode: conflict.json?.errorCode }).toEqual({ status: 409, errorCode: 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS' });
    expect(dataFiles(dataDir).filter((f) => f.name.startsWith(join('blobs', 'streamProcessor'))).map((f) => f.bytes.toString('utf8') === secondText))
      .toEqual([true]);
  });

  it('starts and stops, then leaves no file behind once deleted', async () => {
    const started = await callDigest(`${workspace()}/processor/renamed:start`, owner, { method: 'POST', accept: ACCEPT.processors });
    expect(started.status, started.text).toBe(200);
    const running = await callDigest(`${workspace()}/processor/renamed`, owner, { accept: ACCEPT.processors });
    expect(running.json.state).toBe('STARTED');
    const stopped = await callDigest(`${workspace()}/processor/renamed:stop`, owner, { method: 'POST', accept: ACCEPT.processors });
    expect(stopped.status, stopped.text).toBe(200);
    const deleted = await callDigest(`${workspace()}/processor/renamed`, owner, { method: 'DELETE', accept: ACCEPT.processors });
    expect(deleted.status).toBe(204);
    // The files go once the delete committed, right after its answer.
    for (let i = 0; i < 100 && pipelineFiles(processorId).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(pipelineFiles(processorId)).toEqual([]);
  });
});
