// The protocol layer is generated from the spec the repository carries; this fails when the
// committed output no longer matches it (run `npm run generate`).
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { operations } from '../src/protocol/generated/operations.js';
import { requiredRoles, roleForRequirement } from '../src/model/roles.js';

describe('generated protocol layer', () => {
  it('serves the 89 operations of the August 2026 contract', () => {
    expect(operations).toHaveLength(89);
    expect(operations.filter((o) => o.tag === 'Streams')).toHaveLength(37);
    expect(operations.filter((o) => o.tag === 'Database Users')).toHaveLength(5);
  });

  it('names operations as Atlas does today', () => {
    const ids = new Set(operations.map((o) => o.operationId));
    for (const id of ['createStreamWorkspace', 'getStreamProcessors', 'updateStreamProcessor', 'downloadAuditLogs', 'downloadOperationalLogs', 'createFailoverConnection']) {
      expect(ids.has(id), id).toBe(true);
    }
    expect(ids.has('createStreamInstance')).toBe(false);
  });

  it('reads roles from x-rolesRequirements', () => {
    const del = operations.find((o) => o.operationId === 'deleteStreamConnection')!;
    expect(del.authorization).toEqual({ requirements: ['Organization Stream Processing Admin', 'Project Stream Processing Manager'], source: 'x-rolesRequirements' });
    expect(requiredRoles(del)).toEqual(['ORG_STREAM_PROCESSING_ADMIN', 'GROUP_STREAM_PROCESSING_OWNER']);
  });

  it('knows every role name a requirement uses', () => {
    const unknown = operations.flatMap((o) => o.authorization.requirements).filter((name) => roleForRequirement(name) === undefined);
    expect(unknown).toEqual([]);
  });

  it('matches the spec it was generated from', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [resolve(__dirname, '../scripts/generate-protocol.mjs'), '--check']);
    expect(stdout).toContain('checked 89 operations');
  });
});
