// The control plane's view of a processor definition: is it acceptable (the engine's shape
// rules, src/engine/README.md; the connections it names exist), and which connections does
// it hold on to. The shape rules belong to the engine (pipeline-shape.ts); this adds the DLQ.
import { PipelineError, type Document } from '../../engine/contract.js';
import { checkConnectionsExist, checkPipelineShape, checkPipelineShapeInSlices } from '../../engine/pipeline-shape.js';

/** The built-in sink that needs no connection (`{$emit: {connectionName: "__testLog"}}`). */
export { TEST_LOG_CONNECTION } from '../../engine/pipeline-shape.js';
import { isObject, type StoredProcessor } from './common.js';

export interface DlqOptions {
  connectionName: string;
  db: string;
  coll: string;
}

/**
 * Shape checks of request bodies' pipelines made before the request's transaction, by pipeline:
 * a store transaction holds every other one back while it runs, however it gives way.
 */
const shapesCheckedAhead = new WeakMap<object, Promise<Set<string>>>();

/**
 * Checks the pipeline's shape now, in slices, for checkProcessorDefinition to take when the
 * request gets there; says whether it passed (a failure is thrown there, in its usual place).
 */
export function checkShapeAhead(pipeline: unknown[]): Promise<boolean> {
  const checked = checkPipelineShapeInSlices(pipeline);
  shapesCheckedAhead.set(pipeline, checked);
  return checked.then(() => true, () => false);
}

/**
 * Throws PipelineError when the pipeline or its dead letter queue cannot run in an instance
 * whose connections are `connectionTypes` (name -> type); otherwise returns the connections
 * the pipeline (without its DLQ) uses.
 */
export async function checkProcessorDefinition(pipeline: unknown, dlq: unknown, connectionTypes: Map<string, string>): Promise<ReadonlySet<string>> {
  const checkedAhead = typeof pipeline === 'object' && pipeline !== null ? shapesCheckedAhead.get(pipeline) : undefined;
  const used = await (checkedAhead ?? checkPipelineShapeInSlices(pipeline));
  checkConnectionsExist(used, new Set(connectionTypes.keys()));
  if (dlq === undefined) return used;
  if (!isObject(dlq)) throw new PipelineError('options.dlq must be an object');
  for (const field of ['connectionName', 'db', 'coll'] as const) {
    if (typeof dlq[field] !== 'string' || dlq[field] === '') throw new PipelineError(`options.dlq.${field} is required`);
  }
  const name = dlq['connectionName'] as string;
  checkConnectionsExist([name], new Set(connectionTypes.keys()));
  // Atlas writes dead letters to an Atlas database only.
  if (connectionTypes.get(name) !== 'Cluster') throw new PipelineError(`the dead letter queue connection ${name} must be a Cluster connection`);
  return used;
}

/**
 * Every connection a stored processor holds: those its pipeline names anywhere (window
 * pipelines, $merge.into, $lookup.from, $https included) and its DLQ's. A stored pipeline
 * passed the shape check when it was written; should it not parse now, every
 * `connectionName` found anywhere counts, so that a connection is never freed by mistake.
 */
export function connectionsUsedBy(processor: Pick<StoredProcessor, 'pipeline' | 'pipelineBlob' | 'options'>): Set<string> {
  const used = pipelineConnections(processor);
  const dlqName = processor.options?.dlq?.connectionName;
  if (typeof dlqName === 'string') used.add(dlqName);
  return used;
}

function pipelineConnections(processor: Pick<StoredProcessor, 'pipeline' | 'pipelineBlob'>): Set<string> {
  // A pipeline kept as a blob had its connections found when it was stored (pipeline-blobs.ts).
  if (processor.pipelineBlob) return new Set(processor.pipelineBlob.connections);
  try {
    return checkPipelineShape(processor.pipeline);
  } catch {
    const used = new Set<string>();
    collectEverywhere(processor.pipeline, used);
    return used;
  }
}

function collectEverywhere(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v) => collectEverywhere(v, into));
  } else if (isObject(value)) {
    for (const [key, v] of Object.entries(value as Document)) {
      if (key === 'connectionName' && typeof v === 'string') into.add(v);
      else collectEverywhere(v, into);
    }
  }
}
