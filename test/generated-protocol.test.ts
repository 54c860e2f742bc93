// The protocol layer is generated from the spec; this fails when the committed output no
// longer matches it (run `npm run generate`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { operations } from '../src/protocol/generated/operations.js';

const spec = process.env['ATLAS_SPEC'] ?? resolve(__dirname, '../../shared/spec/atlas-admin-v2.yaml');

describe('generated protocol layer', () => {
  it('serves the 77 operations of the spec', () => {
    expect(operations).toHaveLength(77);
    expect(operations.filter((o) => o.tag === 'Streams')).toHaveLength(30);
  });

  it('reads roles from the spec descriptions', () => {
    const del = operations.find((o) => o.operationId === 'deleteStreamConnection')!;
    expect(del.authorization).toEqual({ roles: ['GROUP_STREAM_PROCESSING_OWNER', 'GROUP_OWNER'], source: 'description' });
  });

  it.runIf(existsSync(spec) || process.env['CI'])('matches the spec it was generated from', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [resolve(__dirname, '../scripts/generate-protocol.mjs'), '--check'], { env: { ...process.env, ATLAS_SPEC: spec } });
    expect(stdout).toContain('checked 77 operations');
  });
});
