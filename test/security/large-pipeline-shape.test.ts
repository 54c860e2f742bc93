// Issue 8 item 10: the shape check of a large pipeline (its depth walk visits every value) runs
// in slices that give way to other clients, and for a large body before the request's
// transaction (over HTTP and the wire alike). What a user sees must not change: a deep or too
// long pipeline gets the same 400 and message however large it is, nothing is kept of it, and a
// large valid pipeline is stored, answered and started as before. How long the event loop
// stalls is measured by `node bench/hostile-load.mjs operations`, not here.
import { Decimal128, Int32, Long, MongoServerError, ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEFINITION_DEPTH, MAX_PIPELINE_STAGES } from '../../src/engine/limits.js';
import { INCREMENTAL_JSON_BYTES } from '../../src/http/json-body.js';
import { LARGE_FRAME_BYTES } from '../../src/wire/large-frames.js';
import { PIPELINE_INLINE_BYTES } from '../../src/domain/streams/pipeline-blobs.js';
import { expectError, streamsPath } from '../streams-fixtures.js';
import { connect, createWorkspace, startWireServer, type WireServer } from '../wire/wire-fixtures.js';

let w: WireServer;
let db: Db;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  w = await startWireServer();
  const { uri } = await createWorkspace(w, 'shapes');
  const { client, admin } = await connect(uri);
  closers.push(() => client.close());
  db = admin;
});
afterAll(async () => {
  for (const close of closers) await close();
  await w.close();
});

const processorPath = (name = '') => streamsPath(w.server.projectId, `/shapes/processor${name ? `/${name}` : ''}`);
const SOURCE = { $source: { connectionName: 'sample_stream_solar' } };
const EMIT = { $emit: { connectionName: '__testLog' } };
const DEEP_MESSAGE = `the pipeline nests deeper than ${MAX_DEFINITION_DEPTH} levels of objects and arrays`;

/** A $match on a list long enough that the body is parsed as it arrives and the walk gives way many times. */
function longMatch(marker: string, items = 60_000): Record<string, unknown> {
  return { $match: { device_id: { $in: Array.from({ length: items }, (_, i) => `${marker}-${i}-abcdefghijklmnopqrstuvwxyz`) } } };
}

/** A document nested `levels` deep. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** A stage one level too deep for the engine (the pipeline array and the stage are two levels). */
const tooDeepStage = () => ({ $match: nested(MAX_DEFINITION_DEPTH - 1) });

const refusedDetail = (name: string, message: string) => `Streams Processor with this name (${name}) had a problem occur: ${message}.`;

async function refusal(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe('a large pipeline refused by its shape', () => {
  it('is as large as the test means: parsed as it arrives, and kept as a blob were it accepted', () => {
    const bytes = Buffer.byteLength(JSON.stringify({ name: 'x', pipeline: [SOURCE, longMatch('size'), EMIT] }));
    expect(bytes).toBeGreaterThan(Math.max(INCREMENTAL_JSON_BYTES, PIPELINE_INLINE_BYTES) * 4);
  });

  it('too deep past a long list: the same 400 and message as a small one, nothing kept', async () => {
    const small = await w.api.call('createStreamProcessor', processorPath(), { method: 'POST', body: { name: 'deepSmall', pipeline: [SOURCE, tooDeepStage(), EMIT] } });
    expectError(small, 400, 'STREAM_PROCESSOR_GENERIC_ERROR', refusedDetail('deepSmall', DEEP_MESSAGE));
    const large = await w.api.call('createStreamProcessor', processorPath(), { method: 'POST', body: { name: 'deepLarge', pipeline: [SOURCE, longMatch('deep'), tooDeepStage(), EMIT] } });
    expectError(large, 400, 'STREAM_PROCESSOR_GENERIC_ERROR', refusedDetail('deepLarge', DEEP_MESSAGE));
    expect((await w.api.call('getStreamProcessor', processorPath('deepLarge'))).status).toBe(404);
  });

  it('the depth is still checked before the stages: a deep pipeline without $source gets the depth message', async () => {
    const res = await w.api.call('createStreamProcessor', processorPath(), { method: 'POST', body: { name: 'deepNoSource', pipeline: [longMatch('first'), tooDeepStage(), EMIT] } });
    expectError(res, 400, 'STREAM_PROCESSOR_GENERIC_ERROR', refusedDetail('deepNoSource', DEEP_MESSAGE));
  });

  it('too many stages: the length message, nothing kept', async () => {
    const middle = Array.from({ length: MAX_PIPELINE_STAGES - 1 }, (_, i) => longMatch(`stage${i}`, 30));
    const res = await w.api.call('createStreamProcessor', processorPath(), { method: 'POST', body: { name: 'tooLong', pipeline: [SOURCE, ...middle, EMIT] } });
    const message = `Pipeline length must be no longer than ${MAX_PIPELINE_STAGES} stages (this one has ${MAX_PIPELINE_STAGES + 1}, window pipelines included)`;
    expectError(res, 400, 'STREAM_PROCESSOR_GENERIC_ERROR', refusedDetail('tooLong', message));
    expect((await w.api.call('getStreamProcessor', processorPath('tooLong'))).status).toBe(404);
  });

  it('a modify to a deep large pipeline: the same 400, the stored pipeline unchanged', async () => {
    const kept = [SOURCE, longMatch('kept'), EMIT];
    const created = await w.api.call('createStreamProcessor', processorPath(), { method: 'POST', body: { name: 'keeps', pipeline: kept } });
    expect(created.status, created.text.slice(0, 300)).toBe(200);
    const modified = await w.api.call('updateStreamProcessor', processorPath('keeps'), { method: 'PATCH', body: { pipeline: [SOURCE, longMatch('modified'), tooDeepStage(), EMIT] } });
    expectError(modified, 400, 'STREAM_PROCESSOR_GENERIC_ERROR', refusedDetail('keeps', DEEP_MESSAGE));
    const read = await w.api.call('getStreamProcessor', processorPath('keeps'));
    expect({ status: read.status, pipeline: read.json.pipeline }).toEqual({ status: 200, pipeline: kept });
  });

  it('over the wire: the same message for a deep large pipeline, created or run with sp.process', async () => {
    const created = await refusal(db.command({ createStreamProcessor: 'deepWire', pipeline: [SOURCE, longMatch('wire'), tooDeepStage(), EMIT] }));
    expect({ codeName: created.codeName, message: created.message }).toEqual({ codeName: 'CommandFailed', message: refusedDetail('deepWire', DEEP_MESSAGE) });
    const listed = await db.command({ listStreamProcessors: 1, filter: { name: 'deepWire' } });
    expect(listed['streamProcessors']).toEqual([]);
    const processed = await refusal(db.command({ processStreamProcessor: [SOURCE, longMatch('process'), tooDeepStage(), EMIT] }));
    expect(processed.message).toContain(DEEP_MESSAGE);
  });
});

describe('a large valid pipeline', () => {
  it('round-trips over HTTP: created, read back equal, started and stopped', async () => {
    const pipeline = [SOURCE, longMatch('valid'), EMIT];
    const created = await w.api.call('createStreamProcessor', processorPath(), { method: 'POST', body: { name: 'valid', pipeline } });
    expect(created.status, created.text.slice(0, 300)).toBe(200);
    expect(created.json.pipeline).toEqual(pipeline);
    const read = await w.api.call('getStreamProcessor', processorPath('valid'));
    expect(read.json.pipeline).toEqual(pipeline);
    expect((await w.api.call('startStreamProcessor', `${processorPath('valid')}:start`, { method: 'POST' })).status).toBe(200);
    expect((await w.api.call('getStreamProcessor', processorPath('valid'))).json.state).toBe('STARTED');
    expect((await w.api.call('stopStreamProcessor', `${processorPath('valid')}:stop`, { method: 'POST' })).status).toBe(200);
    expect((await w.api.call('getStreamProcessor', processorPath('valid'))).json.state).toBe('STOPPED');
  });

  it('over the wire, its values read back as a small one\'s (a large frame is decoded in a worker): created, then modified', async () => {
    const values = () => ({ $addFields: {
      at: new Date('2026-01-02T03:04:05.678Z'), big: Long.fromString('1234567890123'), small: Long.fromNumber(7), n: new Int32(3), half: 0.5,
      whole: 2.0, negative: -0, nan: NaN, dec: Decimal128.fromString('1.25'), oid: new ObjectId('0123456789ab0123456789ab'), text: 'é ✓',
      nested: { list: [1, 'two', null, true], empty: {} },
    } });
    const listedPipeline = async (name: string) =>
      (await db.command({ listStreamProcessors: 1, filter: { name } }))['streamProcessors'][0].pipeline as Array<Record<string, unknown>>;
    expect(await db.command({ createStreamProcessor: 'valuesSmall', pipeline: [SOURCE, values(), EMIT] })).toEqual({ ok: 1 });
    const large = [SOURCE, values(), longMatch('values'), EMIT];
    expect(JSON.stringify(large).length).toBeGreaterThan(LARGE_FRAME_BYTES);
    expect(await db.command({ createStreamProcessor: 'valuesLarge', pipeline: large })).toEqual({ ok: 1 });
    const small = await listedPipeline('valuesSmall');
    expect((await listedPipeline('valuesLarge'))[1]).toEqual(small[1]);
    // Nested under options, as some clients send it.
    expect(await db.command({ modifyStreamProcessor: 'valuesLarge', options: { pipeline: [SOURCE, longMatch('modified'), values(), EMIT] } })).toEqual({ ok: 1 });
    const modified = await listedPipeline('valuesLarge');
    expect(modified[1]).toEqual(longMatch('modified'));
    expect(modified[2]).toEqual(small[1]);
    // Read one, and through a filter on the pipeline itself (which needs its values to match).
    expect((await db.command({ getStreamProcessor: 'valuesLarge' }))['pipeline']).toEqual(modified);
    const filtered = await db.command({ listStreamProcessors: 1, filter: { name: 'valuesLarge', pipeline: { $size: 4 } } });
    expect(filtered['streamProcessors'].map((p: { pipeline: unknown }) => p.pipeline)).toEqual([modified]);
    const notMatching = await db.command({ listStreamProcessors: 1, filter: { name: 'valuesLarge', pipeline: { $size: 3 } } });
    expect(notMatching['streamProcessors']).toEqual([]);
  });

  it('round-trips over the wire: created, listed equal, started and stopped', async () => {
    const pipeline = [SOURCE, longMatch('wireValid'), EMIT];
    expect(await db.command({ createStreamProcessor: 'wireValid', pipeline })).toEqual({ ok: 1 });
    const listed = await db.command({ listStreamProcessors: 1, filter: { name: 'wireValid' } });
    expect(listed['streamProcessors'].map((p: { pipeline: unknown }) => p.pipeline)).toEqual([pipeline]);
    expect(await db.command({ startStreamProcessor: 'wireValid' })).toEqual({ ok: 1 });
    expect((await db.command({ getStreamProcessor: 'wireValid' }))['state']).toBe('STARTED');
    expect(await db.command({ stopStreamProcessor: 'wireValid' })).toEqual({ ok: 1 });
  });

  it('listed over the wire twice, then read over HTTP: the same pipeline each time (the frame worker is handed a copy of what the in-memory store keeps)', async () => {
    const pipeline = [SOURCE, longMatch('twice'), EMIT];
    expect(await db.command({ createStreamProcessor: 'listedTwice', pipeline })).toEqual({ ok: 1 });
    for (const round of [1, 2]) {
      const listed = await db.command({ listStreamProcessors: 1, filter: { name: 'listedTwice' } });
      expect(listed['streamProcessors'].map((p: { pipeline: unknown }) => p.pipeline), `listing ${round}`).toEqual([pipeline]);
    }
    const read = await w.api.call('getStreamProcessor', processorPath('listedTwice'));
    expect({ status: read.status, pipeline: read.json.pipeline }).toEqual({ status: 200, pipeline });
  });
});
