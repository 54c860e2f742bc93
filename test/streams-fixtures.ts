// Shared steps of the Streams tests: a client that checks every response against the spec,
// and the instances and connections most tests start from.
import { expect } from 'vitest';
import { ACCEPT, digestClient, type ApiKeyCredentials, type CallOptions, type CallResult, type TestServer } from '../src/testing/harness.js';
import { checkResponse } from '../src/testing/response-schema.js';

export const V2 = '/api/atlas/v2';

/** Fields Atlas returns that the spec's schemas do not name (BEHAVIOUR.md §5). */
const EXPECTED_UNKNOWN = new Set(['id', 'state', 'region', 'results[].id', 'results[].state', 'results[].region',
  'connections[].id', 'connections[].state', 'connections[].region']);

/**
 * Statuses Atlas answers on operations whose spec entry omits them: a refused state change
 * (:start/:stop, 400 STREAM_PROCESSOR_GENERIC_ERROR, BEHAVIOUR.md §7), version (406), duplicate (409).
 */
const TOLERATED_UNDOCUMENTED = [400, 406, 409];

export interface StreamsClient {
  /** Calls operationId's path; checks a success or documented error against the spec. */
  call(operationId: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** Every response text seen, for checks that secrets never come back. */
  seen: string[];
}

export function streamsClient(server: TestServer, credentials: ApiKeyCredentials = server.owner): StreamsClient {
  const inner = digestClient(server, credentials);
  const seen: string[] = [];
  return {
    seen,
    async call(operationId, path, options = {}) {
      const res = await inner.call(path, { accept: ACCEPT.latest, ...options });
      seen.push(res.text);
      const contentType = res.headers.get('content-type') ?? '';
      if (contentType.includes('json') && !path.includes('envelope=true')) {
        const version = /vnd\.atlas\.(\d{4}-\d{2}-\d{2})/.exec(contentType)?.[1];
        const { errors, unknown, undocumentedStatus } = checkResponse(operationId, res.status, res.json, res.status < 400 ? version : undefined);
        expect(errors, `${operationId} ${res.status} ${res.text.slice(0, 300)}`).toEqual([]);
        if (undocumentedStatus) expect(TOLERATED_UNDOCUMENTED, `${operationId} answered an undocumented ${res.status}`).toContain(res.status);
        expect(unknown.filter((u) => !EXPECTED_UNKNOWN.has(u)), `${operationId} unknown fields`).toEqual([]);
      }
      return res;
    },
  };
}

export function expectError(res: CallResult, status: number, errorCode: string, detail?: string, parameters?: unknown[]): void {
  expect({ status: res.status, errorCode: res.json?.errorCode }, res.text).toEqual({ status, errorCode });
  expect(res.headers.get('x-error-code')).toBe(errorCode);
  expect(res.headers.get('content-type')).toBe('application/json');
  if (detail !== undefined) expect(res.json.detail).toBe(detail);
  if (parameters !== undefined) expect(res.json.parameters).toEqual(parameters);
}

export function streamsPath(groupId: string, rest = ''): string {
  return `${V2}/groups/${groupId}/streams${rest}`;
}

export async function createInstance(client: StreamsClient, groupId: string, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await client.call('createStreamWorkspace', streamsPath(groupId), {
    method: 'POST', body: { name, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, ...extra },
  });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

export async function createConnection(client: StreamsClient, groupId: string, tenant: string, body: Record<string, unknown>): Promise<any> {
  const res = await client.call('createStreamConnection', streamsPath(groupId, `/${tenant}/connections`), { method: 'POST', body });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

export async function createProcessor(client: StreamsClient, groupId: string, tenant: string, body: Record<string, unknown>): Promise<any> {
  const res = await client.call('createStreamProcessor', streamsPath(groupId, `/${tenant}/processor`), { method: 'POST', body });
  expect(res.status, res.text).toBe(200);
  return res.json;
}

export const KAFKA_SECRET = 'kafka-pass-s3cr3t-value';
export const SSL_KEY = '-----BEGIN PRIVATE KEY-----sslkey-s3cr3t-----END PRIVATE KEY-----';
export const SSL_KEY_PASSWORD = 'ssl-key-pass-s3cr3t';

export function kafkaConnection(name: string): Record<string, unknown> {
  return {
    name, type: 'Kafka', bootstrapServers: 'localhost:9092,localhost:9093',
    authentication: { mechanism: 'PLAIN', username: 'alice', password: KAFKA_SECRET, sslKey: SSL_KEY, sslKeyPassword: SSL_KEY_PASSWORD },
    security: { protocol: 'SASL_SSL' },
    config: { 'z.last': '1', 'a.first': '2' },
  };
}

/** A pipeline that reads the sample source and writes to the test log. */
export function samplePipeline(): Record<string, unknown>[] {
  return [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];
}
