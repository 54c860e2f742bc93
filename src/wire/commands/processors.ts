// The stream processor commands that change things (create, start, stop, drop, modify):
// each is the Admin API operation's domain handler, reached through domain-call.ts, so the
// rules and the messages are the same through both doors.
import type { Document } from 'bson';
import { callDomain, type DomainCall } from '../domain-call.js';
import { MESSAGES, WireError } from '../errors.js';
import { toJsonValue } from '../render.js';
import { loadInstance } from '../workspace.js';
import type { CommandContext, CommandSpec } from './types.js';

export function stringArg(ctx: CommandContext, field = ctx.name): string {
  const value = ctx.body[field];
  if (typeof value !== 'string') throw new WireError('FailedToParse', MESSAGES.mustBeString(field));
  return value;
}

/** Options come flat ({startStreamProcessor: "x", workers: 2}) or nested under `options`: both are read. */
export function optionsOf(ctx: CommandContext): Document {
  const nested = ctx.body['options'];
  const flat: Document = { ...ctx.body };
  delete flat[ctx.name];
  delete flat['options'];
  delete flat['$db'];
  delete flat['lsid'];
  delete flat['$clusterTime'];
  delete flat['$readPreference'];
  return nested && typeof nested === 'object' && !Array.isArray(nested) ? { ...flat, ...(nested as Document) } : flat;
}

async function run(ctx: CommandContext, operation: DomainCall['operation'], processorName: string | undefined, body?: unknown): Promise<Document> {
  const { endpoint } = ctx;
  const instance = await endpoint.services.store.read((tx) => loadInstance(tx, endpoint));
  const params: Record<string, string> = { tenantName: instance.name };
  if (processorName !== undefined) params['processorName'] = processorName;
  await callDomain(endpoint.services, endpoint.log, {
    operation, groupId: endpoint.groupId, params, ...(body !== undefined ? { body } : {}), label: `dbuser:${ctx.session.user?.username ?? ''}`,
  });
  return { ok: 1 };
}

async function create(ctx: CommandContext): Promise<Document> {
  const name = stringArg(ctx);
  const pipeline = ctx.body['pipeline'];
  if (!Array.isArray(pipeline)) throw new WireError('FailedToParse', MESSAGES.mustBeArray('pipeline'));
  const dlq = optionsOf(ctx)['dlq'];
  const body: Document = { name, pipeline: toJsonValue(pipeline) };
  if (dlq !== undefined) body['options'] = { dlq: toJsonValue(dlq) };
  return run(ctx, 'createProcessor', undefined, body);
}

/** Only what the engine can honour; anything else is refused rather than silently ignored. */
const START_OPTIONS = new Set(['resumeFromCheckpoint', 'startAtOperationTime', 'clearCheckpoints', 'tier', 'workers']);

async function start(ctx: CommandContext): Promise<Document> {
  const name = stringArg(ctx);
  const options = optionsOf(ctx);
  const unknown = Object.keys(options).find((k) => !START_OPTIONS.has(k));
  if (unknown !== undefined) throw new WireError('InvalidOptions', `unsupported option ${unknown} for startStreamProcessor`);
  const body: Document = {};
  if (options['resumeFromCheckpoint'] === false || options['clearCheckpoints'] === true) body['resumeFromCheckpoint'] = false;
  const at = options['startAtOperationTime'];
  if (at !== undefined) body['startAtOperationTime'] = at instanceof Date ? at.toISOString() : toJsonValue(at);
  // tier and workers size a processor in Atlas; the emulator runs each in one worker thread.
  return Object.keys(body).length > 0 ? run(ctx, 'startProcessorWith', name, body) : run(ctx, 'startProcessor', name);
}

async function stop(ctx: CommandContext): Promise<Document> {
  return run(ctx, 'stopProcessor', stringArg(ctx));
}

async function drop(ctx: CommandContext): Promise<Document> {
  const name = stringArg(ctx);
  const interactive = ctx.endpoint.cursors.interactive(name);
  if (interactive) {
    await ctx.endpoint.cursors.close(interactive);
    ctx.endpoint.cursors.forgetEnded(name);
    return { ok: 1 };
  }
  if (ctx.endpoint.cursors.forgetEnded(name)) return { ok: 1 };
  return run(ctx, 'deleteProcessor', name);
}

async function modify(ctx: CommandContext): Promise<Document> {
  const name = stringArg(ctx);
  const options = optionsOf(ctx);
  const body: Document = {};
  if (options['pipeline'] !== undefined) {
    if (!Array.isArray(options['pipeline'])) throw new WireError('FailedToParse', MESSAGES.mustBeArray('pipeline'));
    body['pipeline'] = toJsonValue(options['pipeline']);
  }
  if (options['name'] !== undefined) body['name'] = options['name'];
  const domainOptions: Document = {};
  if (options['dlq'] !== undefined) domainOptions['dlq'] = toJsonValue(options['dlq']);
  if (options['resumeFromCheckpoint'] !== undefined) domainOptions['resumeFromCheckpoint'] = options['resumeFromCheckpoint'];
  if (Object.keys(domainOptions).length > 0) body['options'] = domainOptions;
  return run(ctx, 'modifyProcessor', name, body);
}

export const processorCommands: Record<string, CommandSpec> = {
  createStreamProcessor: { run: create, needs: 'write' },
  startStreamProcessor: { run: start, needs: 'write' },
  stopStreamProcessor: { run: stop, needs: 'write' },
  dropStreamProcessor: { run: drop, needs: 'write' },
  modifyStreamProcessor: { run: modify, needs: 'write' },
};
