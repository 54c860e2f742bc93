// Shared steps of the Streams contract areas: fixtures made through the API, and the snapshot
// of what a Streams call could change.
import { expect } from 'vitest';
import { look, setupClient, V2, type Target, type World } from '../framework.js';

export const REGION = { cloudProvider: 'AWS', region: 'VIRGINIA_USA' };
export const PEER_ACCOUNT = '123456789012';

export function streams(groupId: string, rest = ''): string {
  return `${V2}/groups/${groupId}/streams${rest}`;
}

export async function newInstance(w: World, prefix = 'inst', extra: Record<string, unknown> = {}): Promise<string> {
  const name = w.unique(prefix);
  const res = await setupClient(w).call(streams(w.groupId), { method: 'POST', body: { name, dataProcessRegion: REGION, ...extra } });
  expect(res.status, res.text).toBe(200);
  return name;
}

export async function newConnection(w: World, tenant: string, body: Record<string, unknown>): Promise<void> {
  const res = await setupClient(w).call(streams(w.groupId, `/${tenant}/connections`), { method: 'POST', body });
  expect(res.status, res.text).toBe(200);
}

export function samplePipeline(): Record<string, unknown>[] {
  return [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];
}

export async function newProcessor(w: World, tenant: string, name = w.unique('proc'), pipeline = samplePipeline()): Promise<string> {
  const res = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor`), { method: 'POST', body: { name, pipeline } });
  expect(res.status, res.text).toBe(200);
  return name;
}

export async function seedPeering(w: World, requesterVpcId = `vpc-${w.unique('peer')}`): Promise<string> {
  const res = await fetchEmulator(w, `/emulator/v1/groups/${w.groupId}/streams/vpcPeeringConnections`, {
    requesterAccountId: PEER_ACCOUNT, requesterVpcId, requesterCidr: '10.0.0.0/16', region: 'us-east-1',
  });
  expect(res.status, JSON.stringify(res.json)).toBeLessThan(300);
  return res.json._id as string;
}

async function fetchEmulator(w: World, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const { callDigest } = await import('../../../src/testing/harness.js');
  const res = await callDigest(`${w.server.url}${path}`, w.server.owner, { method: 'POST', body });
  return { status: res.status, json: res.json };
}

function validGroup(t: Target, w: World): string {
  const g = t.params['groupId'];
  return g && /^[a-f0-9]{24}$/.test(g) ? g : w.groupId;
}

/** Everything under the project's Streams resource the target names (processor stats left out: they move by themselves). */
export async function streamsSnapshot(w: World, t: Target): Promise<unknown> {
  const groupId = validGroup(t, w);
  const parts: unknown[] = [
    await look(w, streams(groupId), 'listStreamWorkspaces'),
    await look(w, streams(groupId, '/privateLinkConnections'), 'listPrivateLinkConnections'),
    await look(w, streams(groupId, `/vpcPeeringConnections?requesterAccountId=${PEER_ACCOUNT}`), 'listVpcPeeringConnections'),
  ];
  const tenant = t.params['tenantName'];
  if (tenant) {
    const enc = encodeURIComponent(tenant);
    parts.push(await look(w, streams(groupId, `/${enc}?includeConnections=true`), 'getStreamWorkspace'));
    parts.push(await look(w, streams(groupId, `/${enc}/processors`), 'getStreamProcessors'));
  }
  return parts;
}
