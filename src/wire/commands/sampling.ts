// sp.process (an interactive run), sp.X.sample() and the getMore loop both read through.
import { Long, type Document } from 'bson';
import { ApiError } from '../../http/errors.js';
import { MESSAGES, WireError } from '../errors.js';
import { startInteractiveRun } from '../interactive-runs.js';
import { loadInstance, loadProcessor } from '../workspace.js';
import { optionsOf, stringArg } from './processors.js';
import type { CommandContext, CommandSpec } from './types.js';

function limitOf(options: Document): number | undefined {
  const limit = options['limit'];
  if (limit === undefined || limit === null) return undefined;
  const n = Number(limit);
  if (!Number.isInteger(n) || n <= 0) throw new WireError('InvalidOptions', 'limit must be a positive integer');
  return n;
}

async function processStreamProcessor(ctx: CommandContext): Promise<Document> {
  const pipeline = ctx.body['processStreamProcessor'];
  if (!Array.isArray(pipeline) || pipeline.length === 0) throw new WireError('FailedToParse', MESSAGES.mustBeArray('processStreamProcessor'));
  const options = optionsOf(ctx);
  const instance = await ctx.endpoint.services.store.read((tx) => loadInstance(tx, ctx.endpoint));
  const limit = limitOf(options);
  const { name, cursor } = await startInteractiveRun(ctx.endpoint, instance, {
    pipeline: pipeline as Document[], connectionId: ctx.session.connectionId,
    ...(limit !== undefined ? { limit } : {}),
    ...(options['dlq'] !== undefined ? { dlq: options['dlq'] as Document } : {}),
  });
  return { name, cursorId: cursor.id, ok: 1 };
}

async function startSample(ctx: CommandContext): Promise<Document> {
  const name = stringArg(ctx);
  const limit = limitOf(optionsOf(ctx));
  const { endpoint } = ctx;
  const processor = await endpoint.services.store.read(async (tx) => loadProcessor(tx, await loadInstance(tx, endpoint), name));
  if (processor.state !== 'STARTED') throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [name, 'the stream processor is not running']);
  const cursor = endpoint.cursors.open({
    processorId: processor._id, processorName: name, lossless: false, ...(limit !== undefined ? { limit } : {}),
  });
  return { cursorId: cursor.id, ok: 1 };
}

/** Echoes the cursor id in the BSON type the client sent it (mongosh compares with !== 0). */
function sameType(sent: unknown, id: number): unknown {
  return sent instanceof Long ? Long.fromNumber(id) : id;
}

async function getMore(ctx: CommandContext): Promise<Document> {
  const name = stringArg(ctx);
  const sent = ctx.body['cursorId'] ?? ctx.body['cursorID'];
  if (sent === undefined) throw new WireError('FailedToParse', 'cursorId is required');
  const key = sent instanceof Long ? sent.toString() : String(Number(sent));
  const cursor = ctx.endpoint.cursors.get(key, name);
  if (!cursor) throw new WireError('CommandFailed', MESSAGES.noSuchCursor(key));
  const batchSize = ctx.body['batchSize'] === undefined ? undefined : Number(ctx.body['batchSize']);
  const { docs, done } = await cursor.next(batchSize);
  if (done) await ctx.endpoint.cursors.close(cursor);
  return { cursorId: sameType(sent, done ? 0 : cursor.id), messages: docs, ok: 1 };
}

export const samplingCommands: Record<string, CommandSpec> = {
  processStreamProcessor: { run: processStreamProcessor, needs: 'write' },
  startSampleStreamProcessor: { run: startSample, needs: 'write' },
  getMoreSampleStreamProcessor: { run: getMore, needs: 'write' },
};
