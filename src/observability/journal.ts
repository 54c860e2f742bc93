// The request journal: the last calls, kept in memory (a ring, so a read costs no write and
// memory stays bounded), for a person asking "what did my client just do, and why was it
// refused?" through the admin API, the CLI and the console. The ring holds the calls as the
// HTTP layer reported them; they become entries only when someone asks, so a call costs one
// store into an array.
import type { CompletedCall } from '../http/context.js';
import { isoTime } from '../model/iso-time.js';

export interface JournalEntry {
  at: string;
  principal: string;
  operationId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** For a refusal for want of a role: the roles of which one was needed. */
  requiredRoles?: readonly string[];
}

export interface JournalFilter {
  status?: number;
  operationId?: string;
  limit?: number;
}

export interface RequestJournal {
  record(call: CompletedCall): void;
  /** Newest first. */
  entries(filter?: JournalFilter): JournalEntry[];
}

export const DEFAULT_JOURNAL_SIZE = 1000;

function entryOf(call: CompletedCall): JournalEntry {
  return {
    at: isoTime(call.at), principal: call.principal, operationId: call.operationId, method: call.method, path: call.path,
    status: call.status, durationMs: Math.round(call.durationMs * 1000) / 1000,
    ...(call.requiredRoles ? { requiredRoles: call.requiredRoles } : {}),
  };
}

export function createRequestJournal(size = DEFAULT_JOURNAL_SIZE): RequestJournal {
  const ring: CompletedCall[] = new Array(size);
  let next = 0;
  let count = 0;
  return {
    record(call) {
      ring[next] = call;
      next = next + 1 === size ? 0 : next + 1;
      if (count < size) count += 1;
    },
    entries({ status, operationId, limit = size } = {}) {
      const out: JournalEntry[] = [];
      for (let i = 1; i <= count && out.length < limit; i += 1) {
        const call = ring[(next - i + size) % size]!;
        if (status !== undefined && call.status !== status) continue;
        if (operationId !== undefined && call.operationId !== operationId) continue;
        out.push(entryOf(call));
      }
      return out;
    },
  };
}
