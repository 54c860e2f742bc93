// $externalFunction (sp-agg-externalFunction): invokes an AWS Lambda function per document
// through an AWSLambda connection, with the Lambda Invoke API (POST
// /2015-03-31/functions/{functionName}/invocations). `execution: "sync"` waits for the
// result and stores it under `as`; "async" (an Event invocation) passes the document on.
// A function error (X-Amz-Function-Error) or a 4xx answer follows onError; other
// failures fail the processor after retries.
//
// Emulator difference: the emulator cannot reach AWS, so Lambda calls go to the endpoint
// set by the engine option `lambdaEndpoint` (ATLAS_STREAMS_LAMBDA_ENDPOINT), e.g. a local
// stand-in or LocalStack; without one, a pipeline using $externalFunction is refused.
import { EJSON } from 'bson';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import type { EngineSettings } from '../runtime/environment.js';
import { withRetries } from '../runtime/retry.js';
import { sendRequest } from './http-client.js';
import { ProcessorFailure, type Operator, type StageContext } from './operator.js';
import { compilePayload, requestBody } from './payload.js';

const CONCURRENCY = 16;
const TIMEOUT_MS = 15 * 60_000; // Lambda's longest run time.

export function createExternalFunctionStage(spec: Doc, connection: ConnectionDefinition, ctx: StageContext, settings: EngineSettings): Operator {
  const endpoint = settings.lambdaEndpoint;
  if (!endpoint) {
    throw new PipelineError(`$externalFunction cannot reach AWS Lambda from this emulator (connection ${connection.name}): set ATLAS_STREAMS_LAMBDA_ENDPOINT to a Lambda-compatible endpoint`);
  }
  const functionName = spec['functionName'];
  if (typeof functionName !== 'string' || functionName === '') throw new PipelineError('$externalFunction.functionName must be a string');
  const execution = spec['execution'] ?? 'sync';
  if (execution !== 'sync' && execution !== 'async') throw new PipelineError('$externalFunction.execution must be "sync" or "async"');
  const as = spec['as'];
  if (execution === 'sync' && (typeof as !== 'string' || as === '')) throw new PipelineError('$externalFunction.as must be a field name for sync execution');
  const onError = spec['onError'] ?? 'dlq';
  if (!['dlq', 'ignore', 'fail'].includes(onError as string)) throw new PipelineError('$externalFunction.onError must be "dlq", "ignore" or "fail"');
  const payload = compilePayload('$externalFunction', spec['payload'], ctx);
  const url = new URL(`${endpoint.replace(/\/$/, '')}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`);
  const headers = { 'content-type': 'application/json', 'x-amz-invocation-type': execution === 'sync' ? 'RequestResponse' : 'Event' };

  const call = async (doc: Doc): Promise<Doc | undefined> => {
    const body = await requestBody(payload, doc);
    const response = await withRetries(`$externalFunction ${functionName}`, async () => {
      const r = await sendRequest(url, { method: 'POST', headers, body, connectionTimeoutMs: 30_000, requestTimeoutMs: TIMEOUT_MS, ca: settings.extraCaCertificates });
      if (r.status >= 500) throw new Error(`HTTP status ${r.status}`);
      return r;
    });
    const functionError = response.headers['x-amz-function-error'];
    let reason: string | undefined;
    if (response.status >= 400) reason = `AWS Lambda invocation of ${functionName} failed with HTTP status ${response.status}`;
    else if (functionError) reason = `AWS Lambda function ${functionName} returned an error (${String(functionError)}): ${response.body.slice(0, 1024)}`;
    if (reason === undefined) {
      if (execution === 'async' || response.body === '') return doc;
      try {
        return { ...doc, [as as string]: EJSON.parse(response.body, { relaxed: true }) };
      } catch {
        reason = `AWS Lambda function ${functionName} returned a payload that is not JSON`;
      }
    }
    if (onError === 'fail') throw new ProcessorFailure(reason);
    if (onError === 'dlq') ctx.deadLetter(doc, reason);
    return onError === 'ignore' ? doc : undefined;
  };

  return {
    name: '$externalFunction',
    async process(docs) {
      const out: Array<Doc | undefined> = new Array(docs.length);
      for (let i = 0; i < docs.length; i += CONCURRENCY) {
        await Promise.all(docs.slice(i, i + CONCURRENCY).map(async (doc, j) => {
          try {
            out[i + j] = await call(doc);
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
