// The request body of $https and $externalFunction: the `payload` pipeline's output, or
// the whole document without one. Stream metadata is not part of a document's content.
import { EJSON } from 'bson';
import { PipelineError } from '../contract.js';
import type { Doc, Value } from '../expressions/values.js';
import type { Operator, StageContext } from './operator.js';
import { statelessStage } from './stateless.js';

export function compilePayload(stage: string, spec: Value, ctx: StageContext): Operator[] {
  if (spec === undefined) return [];
  if (!Array.isArray(spec)) throw new PipelineError(`${stage}.payload must be an array of stages`);
  return (spec as Doc[]).map((s) => {
    const name = Object.keys(s)[0]!;
    const operator = statelessStage(name, s[name], ctx);
    if (!operator) throw new PipelineError(`${name} is not allowed in ${stage}.payload`);
    return operator;
  });
}

export async function requestBody(payload: Operator[], doc: Doc): Promise<string> {
  let shaped: Doc[] = [doc];
  for (const operator of payload) shaped = (await operator.process(shaped)) as Doc[];
  const { _stream_meta: _meta, ...content } = shaped[0] ?? {};
  return EJSON.stringify(content, { relaxed: true });
}
