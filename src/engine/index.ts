// PLACEHOLDER written by the server skeleton so the app compiles; the engine work replaces
// this whole file with the real createEngine.
import type { ProcessorHost, ProcessorRunner } from './contract.js';

export function createEngine(_host: ProcessorHost, _options: { logger?: unknown } = {}): ProcessorRunner {
  const running = new Set<string>();
  return {
    async start(definition) { running.add(definition.id); },
    async stop(id) { running.delete(id); },
    async drop(id) { running.delete(id); },
    isRunning: (id) => running.has(id),
    stats: () => undefined,
    async *watchOutput() { /* nothing runs yet */ },
    async close() { running.clear(); },
  };
}
