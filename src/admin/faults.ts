// Fault injection for tests of a client's error handling: rules that make matching Admin API
// calls answer an Atlas error (429 RATE_LIMITED with Retry-After, 500, 503, 504
// STREAM_PROCESSOR_TIMEOUT, any code of the catalogue), wait first, or both; each firing with
// a probability and at most a count of times. Rules live in memory and go with the process.
import { randomUUID } from 'node:crypto';
import { ApiError, ERROR_CODES, type ErrorCode } from '../http/errors.js';

export interface FaultMatch {
  operationId?: string;
  method?: string;
  /** A regular expression tested against the request path. */
  path?: string;
}

export interface FaultRuleInput {
  match?: FaultMatch;
  error?: { errorCode: string; parameters?: unknown[]; retryAfterSeconds?: number };
  latencyMs?: number;
  /** 0 to 1; 1 (always) by default. */
  probability?: number;
  /** Fires at most this many times; unlimited by default. */
  count?: number;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  fired: number;
}

const MAX_LATENCY_MS = 600_000;

function invalid(field: string): never {
  throw new ApiError('INVALID_ATTRIBUTE', [field]);
}

function checkRule(input: unknown): FaultRuleInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ApiError('MALFORMED_JSON');
  const rule = input as Record<string, unknown>;
  for (const key of Object.keys(rule)) if (!['match', 'error', 'latencyMs', 'probability', 'count'].includes(key)) invalid(key);
  const match = (rule['match'] ?? {}) as Record<string, unknown>;
  if (typeof match !== 'object' || Array.isArray(match)) invalid('match');
  for (const [key, value] of Object.entries(match)) {
    if (!['operationId', 'method', 'path'].includes(key) || typeof value !== 'string') invalid(`match.${key}`);
  }
  if (typeof match['path'] === 'string') {
    try { new RegExp(match['path']); } catch { invalid('match.path'); }
  }
  const error = rule['error'] as Record<string, unknown> | undefined;
  if (error !== undefined) {
    if (typeof error !== 'object' || error === null || typeof error['errorCode'] !== 'string' || !(error['errorCode'] in ERROR_CODES)) invalid('error.errorCode');
    if (error['parameters'] !== undefined && !Array.isArray(error['parameters'])) invalid('error.parameters');
    const retry = error['retryAfterSeconds'];
    if (retry !== undefined && (!Number.isInteger(retry) || (retry as number) < 0)) invalid('error.retryAfterSeconds');
  }
  const latency = rule['latencyMs'];
  if (latency !== undefined && (!Number.isInteger(latency) || (latency as number) < 0 || (latency as number) > MAX_LATENCY_MS)) invalid('latencyMs');
  const probability = rule['probability'];
  if (probability !== undefined && (typeof probability !== 'number' || probability < 0 || probability > 1)) invalid('probability');
  const count = rule['count'];
  if (count !== undefined && (!Number.isInteger(count) || (count as number) < 1)) invalid('count');
  if (error === undefined && latency === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['error']);
  return rule as FaultRuleInput;
}

export interface FaultInjector {
  add(input: unknown): FaultRule;
  list(): FaultRule[];
  remove(id: string): boolean;
  clear(): void;
  /** Waits and throws as the first matching rule says; resolves at once when none matches. */
  apply(operationId: string, method: string, path: string): Promise<void> | undefined;
}

export function createFaultInjector(random: () => number = Math.random): FaultInjector {
  const rules: FaultRule[] = [];
  const compiled = new Map<string, RegExp>();

  const matches = (rule: FaultRule, operationId: string, method: string, path: string): boolean => {
    const { match = {} } = rule;
    if (match.operationId !== undefined && match.operationId !== operationId) return false;
    if (match.method !== undefined && match.method.toUpperCase() !== method) return false;
    if (match.path !== undefined && !compiled.get(rule.id)!.test(path)) return false;
    return true;
  };

  return {
    add(input) {
      const rule: FaultRule = { ...checkRule(input), id: randomUUID(), fired: 0 };
      if (rule.match?.path !== undefined) compiled.set(rule.id, new RegExp(rule.match.path));
      rules.push(rule);
      return rule;
    },
    list: () => rules.map((r) => ({ ...r })),
    remove(id) {
      const at = rules.findIndex((r) => r.id === id);
      if (at < 0) return false;
      rules.splice(at, 1);
      compiled.delete(id);
      return true;
    },
    clear() {
      rules.length = 0;
      compiled.clear();
    },
    // Without rules (every call but a fault test's) nothing to wait for: no promise to make and await.
    apply(operationId, method, path) {
      return rules.length === 0 ? undefined : applyRules(operationId, method, path);
    },
  };

  async function applyRules(operationId: string, method: string, path: string): Promise<void> {
    const rule = rules.find((r) => (r.count === undefined || r.fired < r.count) && matches(r, operationId, method, path));
    if (!rule || random() >= (rule.probability ?? 1)) return;
    rule.fired += 1;
    if (rule.latencyMs) await new Promise((resolve) => setTimeout(resolve, rule.latencyMs));
    if (rule.error) {
      const { errorCode, parameters = [], retryAfterSeconds } = rule.error;
      throw new ApiError(errorCode as ErrorCode, parameters, undefined,
        retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(retryAfterSeconds) });
    }
  }
}
