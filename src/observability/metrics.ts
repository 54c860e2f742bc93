// Prometheus metrics at /metrics (prom-client): API calls by operation and status with their
// latency, processors by state, and each processor's input, output and dead-letter counts.
// Processor figures are read when Prometheus scrapes, so the request path only counts calls.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { STREAMS_KIND, type StoredProcessor } from '../domain/streams/common.js';
import type { CompletedCall, Services } from '../http/context.js';

export interface Metrics {
  recordCall(call: CompletedCall): void;
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createMetrics(services: Pick<Services, 'store' | 'runner' | 'log'>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'atlas_streams_' });
  const callCounts = new CallCounts();
  const calls: Counter<'operation' | 'status'> = new Counter({
    name: 'atlas_streams_api_requests_total', help: 'Authenticated Admin API calls by operation and status.',
    labelNames: ['operation', 'status'] as const, registers: [registry],
    collect: () => callCounts.moveInto(calls),
  });
  const latency = new LatencyHistogram('atlas_streams_api_request_duration_seconds', 'Admin API call latency by operation.',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  // prom-client takes any object with a metric's fields and get(); its types name only its own classes.
  registry.registerMetric(latency as unknown as Metric);
  const processorLabels = ['project', 'workspace', 'processor'] as const;
  const processorCounts = new Gauge({
    name: 'atlas_streams_processors', help: 'Stream processors by state.', labelNames: ['state'] as const, registers: [registry],
  });
  const events = {
    input: new Gauge({ name: 'atlas_streams_processor_input_messages', help: 'Documents a running processor has read.', labelNames: processorLabels, registers: [registry] }),
    output: new Gauge({ name: 'atlas_streams_processor_output_messages', help: 'Documents a running processor has emitted.', labelNames: processorLabels, registers: [registry] }),
    dlq: new Gauge({ name: 'atlas_streams_processor_dlq_messages', help: 'Documents a running processor sent to its dead letter queue.', labelNames: processorLabels, registers: [registry] }),
  };

  const collectProcessors = async (): Promise<void> => {
    const { items } = await services.store.read((tx) => tx.listAll<StoredProcessor>(STREAMS_KIND.processor));
    processorCounts.reset();
    for (const gauge of Object.values(events)) gauge.reset();
    for (const processor of items) {
      processorCounts.inc({ state: processor.state });
      const stats = services.runner.stats(processor._id);
      if (!stats) continue;
      const labels = { project: processor.groupId, workspace: processor.instanceName, processor: processor.name };
      events.input.set(labels, stats.inputMessageCount);
      events.output.set(labels, stats.outputMessageCount);
      events.dlq.set(labels, stats.dlqMessageCount);
    }
  };

  return {
    recordCall(call) {
      callCounts.add(call.operationId, call.status);
      latency.observe(call.operationId, call.durationMs / 1000);
    },
    async serve(_req, res) {
      try {
        await collectProcessors();
        const text = await registry.metrics();
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      } catch (error) {
        services.log.error({ err: error }, 'collecting metrics failed');
        res.writeHead(503, { 'Content-Type': 'text/plain' });
        res.end('metrics unavailable\n');
      }
    },
  };
}

/**
 * Calls by operation and status, counted here and handed to the counter when Prometheus
 * scrapes: two Map lookups a call, where the counter's inc hashes and checks its labels at
 * every call. Label sets reach the counter in the order they were first seen, as inc would
 * have added them.
 */
class CallCounts {
  private readonly byOperation = new Map<string, Map<number, { labels: { operation: string; status: string }; count: number }>>();
  private readonly inOrder: Array<{ labels: { operation: string; status: string }; count: number }> = [];

  add(operation: string, status: number): void {
    let byStatus = this.byOperation.get(operation);
    if (!byStatus) this.byOperation.set(operation, (byStatus = new Map()));
    let entry = byStatus.get(status);
    if (!entry) {
      entry = { labels: { operation, status: String(status) }, count: 0 };
      byStatus.set(status, entry);
      this.inOrder.push(entry);
    }
    entry.count += 1;
  }

  moveInto(counter: Counter<'operation' | 'status'>): void {
    for (const entry of this.inOrder) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

interface LatencyRow {
  labels: { operation: string };
  /** Calls per bucket, not cumulative; the last slot counts calls above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Call latency by operation, printed as prom-client's Histogram prints it (same lines, same
 * order). Kept here because Histogram.observe validates and hashes its labels and finds its
 * bucket through a number turned to text at every call, several µs of a cached GET's CPU;
 * this is one Map lookup and a short loop.
 */
class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private rows = new Map<string, LatencyRow>();

  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[]) {}

  observe(operation: string, seconds: number): void {
    let row = this.rows.get(operation);
    if (!row) this.rows.set(operation, (row = { labels: { operation }, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 }));
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]!) bucket += 1;
    row.counts[bucket]! += 1;
    row.sum += seconds;
    row.count += 1;
  }

  reset(): void {
    this.rows = new Map();
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: unknown[] }> {
    const values: unknown[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const row of this.rows.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += row.counts[i]!;
        values.push({ labels: { le }, sharedLabels: row.labels, value: cumulative, metricName: bucketName, exemplar: null });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: row.labels, value: row.count, metricName: bucketName, exemplar: null },
        { labels: {}, sharedLabels: row.labels, value: row.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: row.labels, value: row.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
