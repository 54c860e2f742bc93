// `npm run bench` must keep working: run its quick mode end to end (it builds on dist/, as
// `npm test` does first). Speed is not asserted, only that every figure is measured and told.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('bench/run.mjs --quick', () => {
  it('measures every figure against its same-run baseline and says which targets fall short', () => {
    const run = spawnSync(process.execPath, [resolve(__dirname, '../bench/run.mjs'), '--quick'], { encoding: 'utf8', timeout: 420_000 });
    expect(run.status, run.stderr).toBe(0);
    for (const label of ['GET one connection, bearer (wrk)', 'CPU time per request, bare per emulator', 'events per CPU-second', 'Digest both legs', 'seed op (DELETE + create) p99', 'idle memory', 'RSS after',
      'GET one connection, 1,000 stored, per 100', 'DELETE one connection', 'sample → $match → $project → sink', 'tumbling window',
      'processors on', 'Kafka → Kafka', 'sp.process round trip', 'sample getMore round trip p50', 'sample getMore round trip p99', 'new wire connection',
      'console bundle', 'console first paint']) {
      expect(run.stdout).toContain(label);
    }
    expect(run.stdout).toMatch(/ratio \d+\.\d\d ± \d+\.\d\d {2}target (>=|<=) [\d.]+: (met|SHORT)/);
    expect(run.stdout).toMatch(/Every target met\.|Short of target: /);
  }, 480_000);
});
