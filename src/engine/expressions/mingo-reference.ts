// mingo configured as our reference implementation: the fallback for whatever the
// compiler does not cover, and the oracle of the differential tests. The operators
// mingo lacks or gets wrong for streams ($meta, $toObjectId, $dateFromString with
// "+00:00" offsets, $jsonSchema) are supplied here so both paths agree.
import { Aggregator } from 'mingo/aggregator';
import { Query } from 'mingo/query';
import { Context, evalExpr, ProcessingMode } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import type { Options } from 'mingo/types';
import { boundedMingoOperators } from './bounded-operators.js';
import { compileJsonSchema } from './json-schema.js';
import { parseDateString } from './dates.js';
import { metaValue, toObjectId } from './stream-operators.js';
import type { Doc, Value } from './values.js';

type MingoOperator = (obj: Value, expr: Value, options: Options) => Value;

const $meta: MingoOperator = (obj, expr) => metaValue(obj, expr);
const $toObjectId: MingoOperator = (obj, expr, options) => toObjectId(evalExpr(obj, expr, options));
const $dateFromString: MingoOperator = (obj, expr, options) => {
  const args = evalExpr(obj, expr, options) as { dateString?: Value; timezone?: string; onNull?: Value; onError?: Value };
  if (args.dateString === null || args.dateString === undefined) return 'onNull' in args ? args.onNull : null;
  try {
    return parseDateString(String(args.dateString), args.timezone);
  } catch (error) {
    if ('onError' in args) return args.onError;
    throw error;
  }
};

const context = Context.init({
  accumulator: accumulatorOperators,
  // Size checks on every operator: a $range or $concat inside $reduce runs here, not compiled.
  expression: { ...boundedMingoOperators(expressionOperators as never), $meta, $toObjectId, $dateFromString } as never,
  pipeline: pipelineOperators,
  projection: projectionOperators,
  query: queryOperators,
  window: windowOperators,
});

export const mingoOptions: Options = {
  idKey: '_id',
  context,
  // Expressions and filters only read the document; whole pipelines (below) get a copy.
  processingMode: ProcessingMode.CLONE_OFF,
  useStrictMode: true,
  scriptEnabled: false,
  failOnError: true,
  jsonSchemaValidator: (schema) => compileJsonSchema(schema) as (o: unknown) => boolean,
};

export function mingoEvaluate(expr: Value): (doc: Doc) => Value {
  return (doc) => evalExpr(doc, expr, mingoOptions);
}

export function mingoFilter(filter: Doc): (doc: Doc) => boolean {
  const query = new Query(filter, mingoOptions);
  return (doc) => query.test(doc);
}

export function mingoAggregate(docs: Doc[], pipeline: Doc[]): Doc[] {
  return new Aggregator(pipeline, { ...mingoOptions, processingMode: ProcessingMode.CLONE_INPUT }).run(docs) as Doc[];
}
