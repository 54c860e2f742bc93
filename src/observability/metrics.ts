// Prometheus metrics at /metrics (prom-client): API calls by operation and status with their
// latency, processors by state, and each processor's input, output and dead-letter counts.
// Processor figures are read when Prometheus scrapes, so the request path only counts calls.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
  const latency = new Histogram({
    name: 'atlas_streams_api_request_duration_seconds', help: 'Admin API call latency by operation.',
    labelNames: ['operation'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
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

  // One observer per operation, made once: latency.observe({ operation }, ...) builds one a call.
  const observers = new Map<string, (seconds: number) => void>();
  return {
    recordCall(call) {
      callCounts.add(call.operationId, call.status);
      let observe = observers.get(call.operationId);
      if (!observe) observers.set(call.operationId, (observe = latency.labels(call.operationId).observe));
      observe(call.durationMs / 1000);
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
