// Starts a worker thread on one of this package's modules, whether it runs built (.js) or
// from its TypeScript sources (vitest).
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker runs `./<entryName>` beside `callerUrl` (the caller's import.meta.url). */
export function startModuleWorker(callerUrl: string, entryName: string, options: WorkerOptions): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${entryName}.js`, callerUrl), options);
  // Running from TypeScript sources: Node 20 workers ignore `execArgv: ['--import', 'tsx']`,
  // so the worker registers tsx's loader itself before loading the TypeScript entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${entryName}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, ...options });
}
