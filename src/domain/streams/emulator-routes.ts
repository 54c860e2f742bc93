// Emulator-only endpoints, outside Atlas's /api/atlas/v2 (so no Atlas client can mistake them
// for Atlas's own). Authenticated like the API; each borrows the role requirement of the
// Atlas operation closest to it.
//
//   GET  /emulator/v1/groups/{groupId}/streams/{tenantName}/processor/{processorName}/output
//        A running processor's output as it happens (a stopped or failed one's last output), one Extended JSON (relaxed) document per
//        line (application/x-ndjson), until the client disconnects or the processor stops.
//   GET  /emulator/v1/groups/{groupId}/streams/{tenantName}/processor/{processorName}/deadLetters
//        The same for its dead letter queue records (the latest 100 first), shaped as Atlas
//        writes them to the DLQ collection: {doc, errInfo: {reason}, processorName, dlqTime, ...}.
//   POST /emulator/v1/groups/{groupId}/streams/vpcPeeringConnections
//        Seeds an incoming VPC peering request (see vpc-peering.ts).
//   GET  /emulator/v1/groups/{groupId}/streams/{tenantName}
//        How to reach the workspace over the MongoDB wire protocol (mongosh): connectionString,
//        host, port, tls and a ready mongosh line (see wire-endpoints.ts).
//   POST /emulator/v1/groups/{groupId}/streams/{tenantName}/process   {"pipeline": [...], "limit": 100}
//        Runs a pipeline once, as `sp.process` does, and answers its output ({results, complete,
//        counts}) without creating anything (the console's "Try a pipeline"). Needs the roles
//        of createStreamProcessor: the pipeline may write to the workspace's connections.
//   PUT  /emulator/v1/groups/{groupId}/clusters/{clusterName}   {"connectionString": "mongodb://..."}
//        Where the cluster a Cluster connection names (clusterName, clusterGroupId) really is;
//        the connection string is sealed like any connection secret and never shown again.
import type { IncomingMessage } from 'node:http';
import { EJSON, type Document } from 'bson';
import { bodyLimitOf } from '../../http/body.js';
import type { ExtensionRequest, RouteExtension } from '../../http/context.js';
import { authorize } from '../../http/authorize.js';
import { readJsonBody, sendJson } from '../../http/extension-io.js';
import { ApiError } from '../../http/errors.js';
import { operationById } from '../../protocol/router.js';
import { STREAMS_KIND, type StoredInstance, type StoredProcessor, isObject } from './common.js';
import { clusterAddressId } from './connections.js';
import { tryPipeline } from './interactive.js';
import { seedVpcPeering } from './vpc-peering.js';
import { describeWireEndpoint, wireEndpointOf } from './wire-endpoints.js';

export const EMULATOR_PREFIX = '/emulator/v1/';

const HEX24 = '([a-f0-9]{24})';
const SEGMENT = '([^/]+)';
const FOLLOW = new RegExp(`^/emulator/v1/groups/${HEX24}/streams/${SEGMENT}/processor/${SEGMENT}/(output|deadLetters)$`);
const VPC_PEERING = new RegExp(`^/emulator/v1/groups/${HEX24}/streams/vpcPeeringConnections$`);
const PROCESS = new RegExp(`^/emulator/v1/groups/${HEX24}/streams/${SEGMENT}/process$`);
const WORKSPACE = new RegExp(`^/emulator/v1/groups/${HEX24}/streams/${SEGMENT}$`);
const CLUSTER = new RegExp(`^/emulator/v1/groups/${HEX24}/clusters/${SEGMENT}$`);

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('RESOURCE_NOT_FOUND', [segment]);
  }
}


/** Serves one emulator request; throws ApiError for the caller's mistakes (rendered by the HTTP layer). */
async function handleEmulatorRequest(r: ExtensionRequest): Promise<void> {
  const { req, path } = r;
  const method = req.method ?? 'GET';
  let m: RegExpExecArray | null;
  if ((m = FOLLOW.exec(path))) {
    if (method !== 'GET') throw new ApiError('METHOD_NOT_ALLOWED', [method, path]);
    return followProcessor(r, m[1]!, decode(m[2]!), decode(m[3]!), m[4] as 'output' | 'deadLetters');
  }
  if ((m = VPC_PEERING.exec(path))) {
    if (method !== 'POST') throw new ApiError('METHOD_NOT_ALLOWED', [method, path]);
    const groupId = m[1]!;
    const body = await readJsonBody(req);
    const created = await r.services.store.transaction(async (tx) => {
      await authorize(operationById('acceptVpcPeeringConnection'), { groupId }, r.principal, tx, r.log);
      return seedVpcPeering(tx, groupId, body, r.services.now());
    });
    return sendJson(r.res, 200, created);
  }
  if ((m = PROCESS.exec(path))) {
    if (method !== 'POST') throw new ApiError('METHOD_NOT_ALLOWED', [method, path]);
    return runOnce(r, m[1]!, decode(m[2]!));
  }
  if ((m = WORKSPACE.exec(path)) && m[2] !== 'vpcPeeringConnections') {
    if (method !== 'GET') throw new ApiError('METHOD_NOT_ALLOWED', [method, path]);
    return describeWorkspace(r, m[1]!, decode(m[2]!));
  }
  if ((m = CLUSTER.exec(path))) {
    if (method !== 'PUT') throw new ApiError('METHOD_NOT_ALLOWED', [method, path]);
    const groupId = m[1]!;
    const clusterName = decode(m[2]!);
    const body = await readJsonBody(req);
    const connectionString = isObject(body) ? body['connectionString'] : undefined;
    if (typeof connectionString !== 'string' || !/^mongodb(\+srv)?:\/\//.test(connectionString)) {
      throw new ApiError('MISSING_ATTRIBUTE', ['connectionString']);
    }
    await r.services.store.transaction(async (tx) => {
      await authorize(operationById('createStreamConnection'), { groupId }, r.principal, tx, r.log);
      const id = clusterAddressId(groupId, clusterName);
      await tx.put(STREAMS_KIND.clusterAddress, { id, parentId: groupId }, {
        groupId, clusterName, sealedConnectionString: r.services.secretBox.seal(connectionString),
      });
    });
    return sendJson(r.res, 200, { clusterName, groupId });
  }
  throw new ApiError('RESOURCE_NOT_FOUND', [path]);
}

const TRY_LIMIT = { default: 100, max: 1000 };
const TRY_TIMEOUT_MS = 10_000;

/** The body of a try-a-pipeline request ({pipeline, limit}), checked. */
export async function readTryRequest(req: IncomingMessage): Promise<{ pipeline: Document[]; limit: number }> {
  const body = await readJsonBody(req, bodyLimitOf('createStreamProcessor'));
  const pipeline = isObject(body) ? body['pipeline'] : undefined;
  if (!Array.isArray(pipeline)) throw new ApiError('MISSING_ATTRIBUTE', ['pipeline']);
  const limit = isObject(body) && body['limit'] !== undefined ? body['limit'] : TRY_LIMIT.default;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > TRY_LIMIT.max) throw new ApiError('INVALID_ATTRIBUTE', ['limit']);
  return { pipeline: pipeline as Document[], limit };
}

/** Runs a pipeline once and answers its output in relaxed Extended JSON, as the output route writes it. */
export async function answerTry(r: Pick<ExtensionRequest, 'res' | 'services' | 'log'>, instance: StoredInstance, tried: { pipeline: Document[]; limit: number }): Promise<void> {
  const result = await tryPipeline(r.services, r.log, instance, tried.pipeline, { limit: tried.limit, timeoutMs: TRY_TIMEOUT_MS });
  return sendJson(r.res, 200, EJSON.serialize(result, { relaxed: true }));
}

async function runOnce(r: ExtensionRequest, groupId: string, tenantName: string): Promise<void> {
  const tried = await readTryRequest(r.req);
  const instance = await r.services.store.read(async (tx) => {
    await authorize(operationById('createStreamProcessor'), { groupId, tenantName }, r.principal, tx, r.log);
    const found = await tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, tenantName);
    if (!found) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, tenantName]);
    return found;
  });
  return answerTry(r, instance, tried);
}

async function describeWorkspace(r: ExtensionRequest, groupId: string, tenantName: string): Promise<void> {
  // A workspace created a moment ago has its listener once the wire layer has caught up.
  await r.services.settleWireEndpoints?.();
  const body = await r.services.store.read(async (tx) => {
    await authorize(operationById('getStreamWorkspace'), { groupId, tenantName }, r.principal, tx, r.log);
    const instance = await tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, tenantName);
    if (!instance) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, tenantName]);
    const endpoint = await wireEndpointOf(tx, instance._id);
    return { name: instance.name, groupId, ...(endpoint ? describeWireEndpoint(endpoint) : { connectionString: null, listening: false }) };
  });
  return sendJson(r.res, 200, body);
}

async function followProcessor(r: ExtensionRequest, groupId: string, tenantName: string, processorName: string, what: 'output' | 'deadLetters'): Promise<void> {
  const { res, services } = r;
  const processor = await services.store.transaction(async (tx) => {
    await authorize(operationById('getStreamProcessor'), { groupId, tenantName, processorName }, r.principal, tx, r.log);
    const instance = await tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, tenantName);
    if (!instance) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, tenantName]);
    const found = await tx.getByName<StoredProcessor>(STREAMS_KIND.processor, instance._id, processorName);
    if (!found) throw new ApiError('STREAM_PROCESSOR_NOT_FOUND', [processorName, tenantName]);
    return found;
  });
  const abort = new AbortController();
  // A processor that stopped or failed: its last output (the engine keeps it until the next
  // start), or a clear refusal when there is none (never started here, or since a restart).
  const running = processor.state === 'STARTED';
  const kept: Document[] = running || what !== 'output' ? [] : services.runner.lastOutputOf?.(processor._id) ?? [];
  if (!running && kept.length === 0) {
    const why = what === 'output' ? 'the stream processor is not running and has no output to show' : 'the stream processor is not running';
    throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [processor.name, why]);
  }
  res.on('close', () => abort.abort());
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();
  try {
    const docs = !running ? kept
      : what === 'output' ? services.runner.watchOutput(processor._id, abort.signal) : services.runner.watchDeadLetters(processor._id, abort.signal);
    for await (const doc of docs) {
      if (abort.signal.aborted) break;
      if (!res.write(`${EJSON.stringify(doc, { relaxed: true })}\n`)) {
        await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) r.log.warn({ err: error, processorId: processor._id }, `following processor ${what} ended with an error`);
  }
  res.end();
}

export const emulatorRoutes: RouteExtension = { prefix: EMULATOR_PREFIX, handle: handleEmulatorRequest };
