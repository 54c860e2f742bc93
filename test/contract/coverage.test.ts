// The contract suite cannot silently shrink: every operation of the spec has exactly one
// contract (so one `[operationId] success` test), every documented body has a sample to derive
// the body matrix from, every area is run by a test file, and every difference an operation
// cites is a row of docs/differences-from-atlas.md.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { operations } from '../../src/protocol/generated/operations.js';
import { GENERAL_NOT_PROVOKABLE, type Area } from './framework.js';
import { apiKeysArea, projectsArea, serviceAccountsArea } from './areas/identity.js';
import { area as instances } from './areas/streams-instances.js';
import { area as networking } from './areas/streams-networking.js';
import { area as processors } from './areas/streams-processors.js';
import { area as failover } from './areas/streams-failover.js';
import { area as databaseUsers } from './areas/database-users.js';

const ROOT = resolve(import.meta.dirname, '../..');
const AREAS: Record<string, Area> = {
  'identity.js#projectsArea': projectsArea, 'identity.js#apiKeysArea': apiKeysArea, 'identity.js#serviceAccountsArea': serviceAccountsArea,
  'streams-instances.js#area': instances, 'streams-networking.js#area': networking, 'streams-processors.js#area': processors,
  'streams-failover.js#area': failover, 'database-users.js#area': databaseUsers,
};

const contracts = Object.values(AREAS).flatMap((a) => a.contracts);
const covered = operations;

describe('contract coverage', () => {
  it('has exactly one contract, hence one success test, for each of the 89 operations', () => {
    expect(operations).toHaveLength(89);
    const ids = contracts.map((c) => c.operationId).sort();
    expect(ids).toEqual(covered.map((o) => o.operationId).sort());
  });

  it('has a sample body for every operation that documents a request body', () => {
    const missing = covered.filter((o) => o.requestBody && contracts.find((c) => c.operationId === o.operationId)?.sampleBody === undefined);
    expect(missing.map((o) => o.operationId)).toEqual([]);
  });

  it('runs every area from a test file', () => {
    const dir = join(ROOT, 'test/contract');
    const sources = readdirSync(dir).filter((f) => f.endsWith('.test.ts') && f !== 'coverage.test.ts').map((f) => readFileSync(join(dir, f), 'utf8'));
    for (const key of Object.keys(AREAS)) {
      const [file, name] = key.split('#');
      const runner = sources.find((s) => s.includes(`from './areas/${file}'`) && new RegExp(`runArea\\(${name}\\)`).test(s));
      expect(runner, `no test file runs ${key}`).toBeDefined();
    }
  });

  it('cites only differences that docs/differences-from-atlas.md lists', () => {
    const doc = readFileSync(join(ROOT, 'docs/differences-from-atlas.md'), 'utf8');
    const rows = new Set(doc.split('\n').filter((l) => l.startsWith('| ')).map((l) => l.split('|')[1]!.trim()));
    const cited = contracts.flatMap((c) => (c.differences ?? []).map((d) => ({ op: c.operationId, d })));
    expect(cited.filter(({ d }) => !rows.has(d) && ![...rows].some((r) => r.replace(/`/g, '') === d))).toEqual([]);
  });

  it('gives a reason for every documented status no case provokes by hand or by derivation', () => {
    // Statuses provoked for every operation by the framework: 401 (challenge), 403 (access list), 404, 400, 406.
    const derived = new Set([401, 403, 404, 400]);
    const unexplained = covered.flatMap((o) => {
      const c = contracts.find((x) => x.operationId === o.operationId)!;
      const byHand = new Set((c.cases ?? []).map((k) => Number(k.name.slice(0, 3))));
      if (c.duplicate) byHand.add(c.duplicate.status);
      return o.documentedErrors.filter((s) => !derived.has(s) && !byHand.has(s) && !(String(s) in { ...GENERAL_NOT_PROVOKABLE, ...c.notProvokable })).map((s) => `${o.operationId} ${s}`);
    });
    expect(unexplained).toEqual([]);
  });
});
