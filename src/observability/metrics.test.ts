import type { ServerResponse } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite.js';
import { createMetrics } from './metrics.js';
import type { CompletedCall } from '../http/context.js';

const store = openSqliteStore({ path: ':memory:' });
afterAll(() => store.close());

async function scrape(serve: (req: never, res: ServerResponse) => Promise<void>): Promise<string> {
  let text = '';
  const res = { writeHead: () => res, end: (body: string) => { text = body; } } as unknown as ServerResponse;
  await serve(undefined as never, res);
  return text;
}

const call = (operationId: string, status: number): CompletedCall => ({
  principal: 'p', operationId, method: 'GET', path: '/x', status, params: {}, durationMs: 3,
});

/** The counter's lines as prom-client prints them when every call is counted with inc at once. */
async function directly(calls: Array<[string, number]>): Promise<string[]> {
  const registry = new Registry();
  const counter = new Counter({ name: 'atlas_streams_api_requests_total', help: 'h', labelNames: ['operation', 'status'], registers: [registry] });
  for (const [operation, status] of calls) counter.inc({ operation, status: String(status) });
  return (await registry.metrics()).split('\n').filter((line) => line.startsWith('atlas_streams_api_requests_total{'));
}

describe('API call metrics', () => {
  it('count calls by operation and status across scrapes, in the lines and order a counter incremented at each call prints', async () => {
    const metrics = createMetrics({ store, runner: { stats: () => undefined } as never, log: undefined as never });
    const first: Array<[string, number]> = [['getGroup', 200], ['listOrgs', 404], ['getGroup', 200]];
    const then: Array<[string, number]> = [['listOrgs', 404], ['listOrgs', 200], ['getGroup', 200]];
    const counted = (text: string) => text.split('\n').filter((line) => line.startsWith('atlas_streams_api_requests_total{'));
    for (const [operation, status] of first) metrics.recordCall(call(operation, status));
    expect(counted(await scrape(metrics.serve))).toEqual(await directly(first));
    for (const [operation, status] of then) metrics.recordCall(call(operation, status));
    const text = await scrape(metrics.serve);
    expect(counted(text)).toEqual(await directly([...first, ...then]));
    expect(counted(text)).toEqual([
      'atlas_streams_api_requests_total{operation="getGroup",status="200"} 3',
      'atlas_streams_api_requests_total{operation="listOrgs",status="404"} 2',
      'atlas_streams_api_requests_total{operation="listOrgs",status="200"} 1',
    ]);
    expect(text).toMatch(/^atlas_streams_api_request_duration_seconds_bucket\{le="0.005",operation="getGroup"\} 3$/m);
    expect(text).toMatch(/^atlas_streams_api_request_duration_seconds_count\{operation="listOrgs"\} 3$/m);
  });
});
