// Matches a request path to an operation of the spec. Colon custom methods
// (`{processorName}:start`, `streams:withSampleConnections`) are literal suffixes of the
// last segment, so the more literal of two matching templates wins.
import { operations } from './generated/operations.js';
import type { OperationSpec } from './operation-spec.js';

interface Route {
  operation: OperationSpec;
  pattern: RegExp;
  paramNames: string[];
  literalLength: number;
}

export type RouteMatch =
  | { kind: 'found'; operation: OperationSpec; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

function compile(operation: OperationSpec): Route {
  const paramNames: string[] = [];
  const source = operation.path.split(/(\{[^}]+\})/).map((part) => {
    const param = /^\{([^}]+)\}$/.exec(part);
    if (param) {
      paramNames.push(param[1]!);
      return '([^/]+?)';
    }
    return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  }).join('');
  return {
    operation,
    pattern: new RegExp(`^${source}$`),
    paramNames,
    literalLength: operation.path.replace(/\{[^}]+\}/g, '').length,
  };
}

const routes: Route[] = operations.map(compile).sort((a, b) => b.literalLength - a.literalLength);

/** Clients call the same few paths over and over: remember the latest answers. */
const recentMatches = new Map<string, RouteMatch>();
const MAX_REMEMBERED = 1000;

export function matchRoute(method: string, pathname: string): RouteMatch {
  const key = `${method} ${pathname}`;
  let match = recentMatches.get(key);
  if (!match) {
    match = findRoute(method, pathname);
    if (recentMatches.size >= MAX_REMEMBERED) recentMatches.delete(recentMatches.keys().next().value!);
    recentMatches.set(key, match);
  }
  return match;
}

function findRoute(method: string, pathname: string): RouteMatch {
  const allowed: string[] = [];
  for (const route of routes) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    if (route.operation.method !== method) {
      allowed.push(route.operation.method);
      continue;
    }
    const params: Record<string, string> = {};
    for (let i = 0; i < route.paramNames.length; i++) {
      let value: string;
      try {
        value = decodeURIComponent(m[i + 1]!);
      } catch {
        return { kind: 'not-found' };
      }
      params[route.paramNames[i]!] = value;
    }
    // Matches are remembered and shared between requests: nobody may change them.
    return Object.freeze({ kind: 'found', operation: route.operation, params: Object.freeze(params) });
  }
  return allowed.length > 0 ? { kind: 'method-not-allowed', allowed: [...new Set(allowed)] } : { kind: 'not-found' };
}

export function operationById(operationId: string): OperationSpec {
  const operation = operations.find((o) => o.operationId === operationId);
  if (!operation) throw new Error(`no operation ${operationId} in the spec`);
  return operation;
}
