// $https as the last stage: Atlas sends each document to the Https connection and writes
// nothing further. The request is the $https stage's own (path, parameters, headers,
// onError, retries); as a sink it defaults to POST with the whole document as the body,
// and `as` is not needed since nothing reads the response.
import type { ConnectionDefinition } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import type { EngineSettings } from '../runtime/environment.js';
import { createHttpsStage } from '../stages/https.js';
import type { StageContext } from '../stages/operator.js';
import type { Sink } from './sink.js';

/** A payload pipeline that passes the document as it is. */
const WHOLE_DOCUMENT = [{ $replaceRoot: { newRoot: '$$ROOT' } }];

export function createHttpsSink(spec: Doc, connection: ConnectionDefinition, ctx: StageContext, settings: EngineSettings): Sink {
  const stage = createHttpsStage({ method: 'POST', payload: WHOLE_DOCUMENT, ...spec, as: spec['as'] ?? 'response' }, connection, ctx, settings);
  return {
    name: '$https',
    async open() { /* each write opens its own requests */ },
    async write(docs) {
      await stage.process(docs);
      return docs.reduce((bytes, doc) => bytes + Buffer.byteLength(JSON.stringify(doc)), 0);
    },
    async close() { /* nothing held open */ },
  };
}
