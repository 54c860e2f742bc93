// Where each stage may stand (src/engine/README.md), and which connections a
// pipeline names. Checked on create, modify and start, before anything runs.
import { PipelineError, type Document } from './contract.js';
import { MAX_DEFINITION_DEPTH, MAX_PIPELINE_STAGES } from './limits.js';
import { sliceBreaks } from './runtime/sliced-json.js';
import { checkStageOptions } from './stage-options.js';

const ANYWHERE = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith', '$match',
  '$redact', '$unwind', '$validate', '$lookup', '$https', '$setStreamMeta', '$cachedLookup', '$externalFunction']);
const WINDOW_ONLY = new Set(['$group', '$sort', '$count', '$limit']);
export const WINDOWS = new Set(['$tumblingWindow', '$hoppingWindow', '$sessionWindow']);
const SINKS = new Set(['$emit', '$merge']);
/** $https may also end a pipeline (Atlas sends each document and writes nothing further). */
const LAST = new Set([...SINKS, '$https']);
/** The built-in sink that needs no connection object. */
export const TEST_LOG_CONNECTION = '__testLog';

export function stageName(stage: unknown, index: number): string {
  if (stage === null || typeof stage !== 'object' || Array.isArray(stage)) {
    throw new PipelineError(`pipeline stage ${index} must be an object`);
  }
  const keys = Object.keys(stage);
  if (keys.length !== 1) throw new PipelineError(`pipeline stage ${index} must have exactly one field, found ${keys.length}`);
  return keys[0]!;
}

/** Throws PipelineError when the pipeline's shape breaks the rules; returns the connection names it uses. */
export function checkPipelineShape(pipeline: unknown): Set<string> {
  const stages = checkIsStageList(pipeline);
  // Before anything walks it recursively: a deep definition would overflow the stack there.
  depthWalk(stages)(Infinity);
  return checkStages(stages);
}

/** Values the depth walk visits between two looks at the clock. */
const DEPTH_WALK_STEP = 4096;

/**
 * checkPipelineShape for the API thread: the walk over every value (10 to 65 ms for a 16 MB
 * pipeline in one pass) gives way to other events whenever a slice has run its time.
 */
export async function checkPipelineShapeInSlices(pipeline: unknown): Promise<Set<string>> {
  const stages = checkIsStageList(pipeline);
  const walk = depthWalk(stages);
  const sliceBreak = sliceBreaks();
  while (!walk(DEPTH_WALK_STEP)) await sliceBreak();
  return checkStages(stages);
}

function checkIsStageList(pipeline: unknown): unknown[] {
  if (!Array.isArray(pipeline) || pipeline.length === 0) throw new PipelineError('pipeline must be a non-empty array of stages');
  return pipeline;
}

/** The rules on the stages themselves, once the depth walk passed. */
function checkStages(pipeline: unknown[]): Set<string> {
  const used = new Set<string>();
  const names = pipeline.map((stage, i) => stageName(stage, i));
  if (names[0] !== '$source') throw new PipelineError('the first stage must be $source');
  const last = names[names.length - 1]!;
  if (!LAST.has(last)) throw new PipelineError('the last stage must be $emit, $merge or $https');
  checkLength(pipeline, names);
  let windows = 0;
  names.forEach((name, i) => {
    const body = (pipeline[i] as Document)[name];
    if (name === '$source') {
      if (i !== 0) throw new PipelineError('$source may only be the first stage');
    } else if (SINKS.has(name)) {
      if (i !== names.length - 1) throw new PipelineError(`${name} may only be the last stage`);
    } else if (WINDOWS.has(name)) {
      windows += 1;
      if (windows > 1) throw new PipelineError('a pipeline may have at most one window stage');
      checkWindowPipeline(name, body, used);
    } else if (WINDOW_ONLY.has(name)) {
      throw new PipelineError(`${name} is only allowed inside a window stage's pipeline`);
    } else if (!ANYWHERE.has(name)) {
      throw new PipelineError(`unsupported stage ${name}`);
    }
    checkStageOptions(name, body);
    collectConnections(name, body, used);
  });
  return used;
}

function checkWindowPipeline(windowName: string, body: unknown, used: Set<string>): void {
  const inner = (body as Document | null)?.['pipeline'];
  if (!Array.isArray(inner)) throw new PipelineError(`${windowName}.pipeline must be an array of stages`);
  inner.forEach((stage, i) => {
    const name = stageName(stage, i);
    if (!ANYWHERE.has(name) && !WINDOW_ONLY.has(name)) {
      throw new PipelineError(`${name} is not allowed inside ${windowName}.pipeline`);
    }
    checkStageOptions(name, (stage as Document)[name]);
    collectConnections(name, (stage as Document)[name], used);
  });
}

function collectConnections(name: string, body: unknown, used: Set<string>): void {
  if (body === null || typeof body !== 'object') return;
  const b = body as Document;
  const fromInto = name === '$merge' ? (b['into'] as Document | undefined)?.['connectionName'] : undefined;
  const fromLookup = name === '$lookup' || name === '$cachedLookup' ? (b['from'] as Document | undefined)?.['connectionName'] : undefined;
  const fromRegistry = (b['schemaRegistry'] as Document | undefined)?.['connectionName'];
  for (const candidate of [b['connectionName'], fromInto, fromLookup, fromRegistry]) {
    if (typeof candidate === 'string') used.add(candidate);
  }
}

/** Throws PipelineError naming the first connection the pipeline (or its DLQ) uses that the instance lacks. */
export function checkConnectionsExist(used: Iterable<string>, existing: Set<string>): void {
  for (const name of used) {
    if (name !== TEST_LOG_CONNECTION && !existing.has(name)) {
      throw new PipelineError(`connection named ${name} does not exist. Check sp.listConnections() for available connections`);
    }
  }
}

/** Every stage runs for every document; MongoDB refuses pipelines longer than this too. */
function checkLength(pipeline: unknown[], names: string[]): void {
  let stages = pipeline.length;
  names.forEach((name, i) => {
    const inner = WINDOWS.has(name) ? ((pipeline[i] as Document)[name] as Document | null)?.['pipeline'] : undefined;
    if (Array.isArray(inner)) stages += inner.length;
  });
  if (stages > MAX_PIPELINE_STAGES) {
    throw new PipelineError(`Pipeline length must be no longer than ${MAX_PIPELINE_STAGES} stages (this one has ${stages}, window pipelines included)`);
  }
}

/**
 * Nesting of objects and arrays, walked without recursion: each call visits at most `budget`
 * values and says whether the walk is over, so that a caller may give way between calls.
 */
function depthWalk(root: unknown[]): (budget: number) => boolean {
  // Only containers are stacked, one per level, and arrays are not copied: a 16 MB pipeline is
  // mostly scalars (a long $in list), and queueing each of them held the API thread for seconds.
  const levels: Array<{ children: unknown[]; next: number }> = [{ children: root, next: 0 }];
  return (budget) => {
    for (let visited = 0; levels.length > 0; visited++) {
      if (visited === budget) return false;
      const level = levels[levels.length - 1]!;
      if (level.next === level.children.length) {
        levels.pop();
        continue;
      }
      const child = level.children[level.next++];
      if (child === null || typeof child !== 'object') continue;
      // The root is level 1, so the child becomes level levels.length + 1.
      if (levels.length + 1 > MAX_DEFINITION_DEPTH) {
        throw new PipelineError(`the pipeline nests deeper than ${MAX_DEFINITION_DEPTH} levels of objects and arrays`);
      }
      levels.push({ children: Array.isArray(child) ? child : Object.values(child), next: 0 });
    }
    return true;
  };
}
