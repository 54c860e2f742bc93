// $lookup against a collection on a Cluster connection:
// {from: {connectionName, db, coll}, localField, foreignField, as} or {from, let, pipeline, as};
// and $cachedLookup, the localField/foreignField form with a TTL cache of query results.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, resolvePath, type Doc, type Evaluate } from '../expressions/values.js';
import type { ClusterClients } from '../connections/cluster.js';
import { withRetries } from '../runtime/retry.js';
import { ProcessorFailure, type Operator, type StageContext } from './operator.js';
import { durationMs } from '../windows/durations.js';
import { LookupCache } from './lookup-cache.js';

const CONCURRENCY = 16;
/** Without maxMemUsageBytes Atlas takes 10% of the workspace's RAM; 10% of SP10's 2 GB here. */
const DEFAULT_CACHE_BYTES = 200 * 1024 * 1024;

function lookupCache(spec: Doc): LookupCache {
  for (const field of ['let', 'pipeline']) {
    if (spec[field] !== undefined) throw new PipelineError(`$cachedLookup does not support '${field}'`);
  }
  if (typeof spec['localField'] !== 'string' || typeof spec['foreignField'] !== 'string') throw new PipelineError('$cachedLookup requires localField and foreignField');
  const maxBytes = spec['maxMemUsageBytes'] ?? DEFAULT_CACHE_BYTES;
  if (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes <= 0) throw new PipelineError('$cachedLookup.maxMemUsageBytes must be a positive integer');
  return new LookupCache(durationMs(spec['ttl'], '$cachedLookup.ttl'), maxBytes);
}

export function createLookupStage(spec: Doc, clusters: ClusterClients, ctx: StageContext, options: { cached?: boolean } = {}): Operator {
  const stage = options.cached ? '$cachedLookup' : '$lookup';
  const cache = options.cached ? lookupCache(spec) : undefined;
  const from = spec['from'];
  if (!isPlainObject(from) || typeof from['connectionName'] !== 'string' || typeof from['db'] !== 'string' || typeof from['coll'] !== 'string') {
    throw new PipelineError(`${stage}.from must be {connectionName, db, coll}`);
  }
  const as = spec['as'];
  if (typeof as !== 'string') throw new PipelineError(`${stage}.as must be a field name`);
  const localParts = typeof spec['localField'] === 'string' ? spec['localField'].split('.') : undefined;
  const foreignField = spec['foreignField'] as string | undefined;
  const pipeline = (spec['pipeline'] as Doc[] | undefined) ?? [];
  const lets: Array<[string, Evaluate]> = isPlainObject(spec['let']) ? Object.entries(spec['let']).map(([k, v]) => [k, compileExpression(v)]) : [];
  if (!localParts && pipeline.length === 0) throw new PipelineError('$lookup needs localField/foreignField or a pipeline');
  const collection = () => clusters.get(from['connectionName'] as string).db(from['db'] as string).collection(from['coll'] as string);

  const lookup = async (doc: Doc): Promise<Doc> => {
    const stages: Doc[] = [];
    if (localParts && foreignField) {
      const local = resolvePath(doc, localParts);
      stages.push({ $match: { [foreignField]: { $in: Array.isArray(local) ? local : [local ?? null] } } });
    }
    stages.push(...pipeline);
    const letValues = Object.fromEntries(lets.map(([k, evaluate]) => [k, evaluate(doc)]));
    const query = () => withRetries(stage, () => collection().aggregate(stages, lets.length > 0 ? { let: letValues } : {}).toArray());
    const matches = cache ? await cache.get(resolvePath(doc, localParts!), query) : await query();
    return { ...doc, [as]: matches };
  };

  return {
    name: stage,
    async process(docs) {
      const out: Array<Doc | undefined> = new Array(docs.length);
      for (let i = 0; i < docs.length; i += CONCURRENCY) {
        await Promise.all(docs.slice(i, i + CONCURRENCY).map(async (doc, j) => {
          try {
            out[i + j] = await lookup(doc);
          } catch (error) {
            if (error instanceof ProcessorFailure) throw error;
            ctx.deadLetter(doc, (error as Error).message);
          }
        }));
      }
      return out.filter((d): d is Doc => d !== undefined);
    },
  };
}
