// Large pipelines (Atlas takes definitions up to 16 MB) kept beside the store, as checkpoint
// states are (src/store/blob-files.ts), with the processor's row naming the version. Held in
// the row, every write of the processor (a create, a modify, each state change) stringified
// and wrote 16 MB synchronously on the API thread, and every read parsed it back: about half
// a second each, during which no other client was answered. Here the JSON text is written out
// and read back in slices that give way to other events (sliced-json.ts), responses splice
// the stored bytes in (RawJson) instead of parsing them, and what reads need of the pipeline
// without its text (stage names for stats, the connections it holds) stays in the row.
import { randomUUID } from 'node:crypto';
import type { Document } from '../../engine/contract.js';
import { jsonPieces, parseInSlices } from '../../engine/runtime/sliced-json.js';
import { keepOrder, RawJson } from '../../http/json.js';
import type { BlobStore } from '../../store/blob-files.js';
import { StaleReadError } from '../../store/store.js';
import { isObject, STREAMS_KIND, type StoredProcessor } from './common.js';
import { checkShapeAhead } from './pipelines.js';

/** Pipelines whose JSON text is longer stay out of the row: below it, JSON work takes a millisecond or so. */
export const PIPELINE_INLINE_BYTES = 64 * 1024;

/** A pipeline kept as a blob: the blob's version, its size, and what reads need without its text. */
export interface PipelineBlob {
  version: string;
  bytes: number;
  stages: string[];
  connections: string[];
}

/** Where a processor's pipeline is: in the row (`pipeline`) or in a blob (`pipelineBlob`). */
export type StoredPipeline = Pick<StoredProcessor, 'pipeline' | 'pipelineBlob'>;

/** JSON texts of pipelines in request bodies, written before the request's transaction began. */
const preparedTexts = new WeakMap<object, ReturnType<typeof jsonPieces>>();
const PIPELINE_OPERATIONS = new Set(['createStreamProcessor', 'updateStreamProcessor']);

/**
 * For the HTTP layer (and the wire's), before a large body's transaction: checks the shape of
 * the body's pipeline and writes its JSON text, which checkProcessorDefinition and storePipeline
 * then take instead of doing it inside the transaction. A pipeline refused is not written.
 */
export async function prepareLargeBody(operationId: string, body: unknown): Promise<void> {
  if (!PIPELINE_OPERATIONS.has(operationId) || !isObject(body) || !Array.isArray(body['pipeline'])) return;
  if (!await checkShapeAhead(body['pipeline'])) return;
  const text = jsonPieces(body['pipeline']);
  preparedTexts.set(body['pipeline'], text);
  await text;
}

function stageNames(pipeline: unknown[]): string[] {
  return pipeline.map((stage) => (isObject(stage) ? Object.keys(stage)[0] ?? '' : ''));
}

/**
 * Stores a processor's new pipeline: in the row when small, otherwise as a new blob version
 * (the row then names it). `connections` are those its stages name (checkProcessorDefinition's answer).
 * Once the row naming it is committed, keepOnlyStoredPipeline drops the other versions.
 */
export async function storePipeline(blobs: BlobStore, processorId: string, pipeline: Document[], connections: ReadonlySet<string>): Promise<StoredPipeline> {
  const { pieces, bytes } = await (preparedTexts.get(pipeline) ?? jsonPieces(pipeline));
  if (bytes <= PIPELINE_INLINE_BYTES) return { pipeline };
  const version = randomUUID();
  await blobs.write(STREAMS_KIND.processor, processorId, version, pieces);
  return { pipelineBlob: { version, bytes, stages: stageNames(pipeline), connections: [...connections] } };
}

/** A version storePipeline wrote for a write of the processor that did not commit. */
export async function deletePipelineVersion(blobs: BlobStore, processorId: string, version: string): Promise<void> {
  await blobs.delete(STREAMS_KIND.processor, processorId, version);
}

/** After a write of the processor committed: the versions its row does not name go. */
export async function keepOnlyStoredPipeline(blobs: BlobStore, processor: StoredPipeline & { _id: string }): Promise<void> {
  await blobs.deleteAll(STREAMS_KIND.processor, processor._id, processor.pipelineBlob?.version);
}

/** The processor's pipeline blobs, once the processor is deleted. */
export async function deleteStoredPipeline(blobs: BlobStore, processorId: string): Promise<void> {
  await blobs.deleteAll(STREAMS_KIND.processor, processorId);
}

async function readBlob(blobs: BlobStore, processorId: string, blob: PipelineBlob, owned = false): Promise<Uint8Array> {
  const bytes = owned ? await blobs.readOwned(STREAMS_KIND.processor, processorId, blob.version) : await blobs.read(STREAMS_KIND.processor, processorId, blob.version);
  // The row names a version written before it was committed. Gone since: a modify or delete
  // committed after this transaction's snapshot (PostgreSQL's reads do not wait for writes;
  // SQLite's do, so there only a damaged data directory lacks it).
  if (!bytes) throw new StaleReadError(`the pipeline of stream processor ${processorId} (blob ${blob.version}) is gone`);
  return bytes;
}

/** The pipeline as a response shows it: the caller's order kept; a blob's bytes spliced in as they are. */
export async function pipelineForResponse(blobs: BlobStore, processor: StoredPipeline & { _id: string }): Promise<unknown> {
  if (!processor.pipelineBlob) return keepOrder(processor.pipeline);
  return new RawJson(await readBlob(blobs, processor._id, processor.pipelineBlob));
}

/**
 * A blob pipeline's stored text in memory the caller owns: the wire hands it to its frame
 * worker (large-frames.ts), and a transfer empties what it hands over.
 */
export async function ownedPipelineText(blobs: BlobStore, processorId: string, blob: PipelineBlob): Promise<RawJson> {
  return new RawJson(await readBlob(blobs, processorId, blob, true));
}

/** The pipeline itself (to check it, or run it): a blob's text is parsed in slices. */
export async function loadPipeline(blobs: BlobStore, processor: StoredPipeline & { _id: string }): Promise<Document[]> {
  if (!processor.pipelineBlob) return processor.pipeline!;
  return await parseInSlices(await readBlob(blobs, processor._id, processor.pipelineBlob)) as Document[];
}

/** Each stage's name ($source, $match...), for the stats of a processor that is not running. */
export function stageNamesOf(processor: StoredPipeline): string[] {
  return processor.pipelineBlob?.stages ?? stageNames(processor.pipeline ?? []);
}
