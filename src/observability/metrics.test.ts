import type { ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
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

const call = (operationId: string, status: number, durationMs = 3): CompletedCall => ({
  principal: 'p', operationId, method: 'GET', path: '/x', status, params: {}, durationMs, at: Date.now(),
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

  it('print call latency as a prom-client histogram observing each call prints it', async () => {
    const metrics = createMetrics({ store, runner: { stats: () => undefined } as never, log: undefined as never });
    const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    const registry = new Registry();
    const histogram = new Histogram({ name: 'atlas_streams_api_request_duration_seconds', help: 'Admin API call latency by operation.',
      labelNames: ['operation'], buckets, registers: [registry] });
    const calls: Array<[string, number]> = [['getGroup', 0.2], ['listOrgs', 1], ['getGroup', 2.5], ['getGroup', 2.5001], ['listOrgs', 7300],
      ['getGroup', 0.0371], ['createGroup', 250], ['listOrgs', 0.999]];
    for (const [operation, ms] of calls) {
      metrics.recordCall(call(operation, 200, ms));
      histogram.observe({ operation }, ms / 1000);
    }
    const latencyLines = (text: string) => text.split('\n').filter((line) => line.includes('atlas_streams_api_request_duration_seconds'));
    const expected = latencyLines(await registry.metrics());
    expect(expected).toContain('atlas_streams_api_request_duration_seconds_bucket{le="+Inf",operation="listOrgs"} 3');
    expect(latencyLines(await scrape(metrics.serve))).toEqual(expected);
  });
});
