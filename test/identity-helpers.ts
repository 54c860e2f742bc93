// Shared steps of the identity tests: credentials made through the API itself.
import { expect } from 'vitest';
import { ACCEPT, digestClient, type ApiKeyCredentials, type CallOptions, type CallResult, type Client, type TestServer } from '../src/testing/harness.js';

export const V2 = '/api/atlas/v2';

export interface CreatedKey extends ApiKeyCredentials {
  id: string;
}

export interface CreatedAccount {
  clientId: string;
  secret: string;
  secretId: string;
}

/** A Digest client that remembers every response body, for checks that secrets never come back. */
export function recordingClient(server: TestServer, credentials: ApiKeyCredentials, seen: string[]): Client {
  const inner = digestClient(server, credentials);
  return {
    async call(path: string, options: CallOptions = {}): Promise<CallResult> {
      const res = await inner.call(path, { accept: ACCEPT.latest, ...options });
      seen.push(res.text);
      return res;
    },
  };
}

export function expectError(res: CallResult, status: number, errorCode: string): void {
  expect({ status: res.status, errorCode: res.json?.errorCode }).toEqual({ status, errorCode });
  expect(res.headers.get('x-error-code')).toBe(errorCode);
}

export async function createOrgKey(client: Client, orgId: string, roles: string[], desc = 'test key'): Promise<CreatedKey> {
  const res = await client.call(`${V2}/orgs/${orgId}/apiKeys`, { method: 'POST', body: { desc, roles } });
  expect(res.status).toBe(200);
  return { id: res.json.id, publicKey: res.json.publicKey, privateKey: res.json.privateKey };
}

export async function createProjectKey(client: Client, groupId: string, roles: string[], desc = 'project key'): Promise<CreatedKey> {
  const res = await client.call(`${V2}/groups/${groupId}/apiKeys`, { method: 'POST', body: { desc, roles } });
  expect(res.status).toBe(200);
  return { id: res.json.id, publicKey: res.json.publicKey, privateKey: res.json.privateKey };
}

export async function createProject(client: Client, orgId: string, name: string): Promise<string> {
  const res = await client.call(`${V2}/groups`, { method: 'POST', body: { name, orgId } });
  expect(res.status).toBe(200);
  return res.json.id;
}

export async function createServiceAccount(client: Client, orgId: string, roles: string[], name = 'test account'): Promise<CreatedAccount> {
  const res = await client.call(`${V2}/orgs/${orgId}/serviceAccounts`, {
    method: 'POST', body: { name, description: 'made by a test', roles, secretExpiresAfterHours: 24 },
  });
  expect(res.status).toBe(201);
  return { clientId: res.json.clientId, secret: res.json.secrets[0].secret, secretId: res.json.secrets[0].id };
}

export function basic(clientId: string, secret: string, urlEncode = false): string {
  const enc = urlEncode ? encodeURIComponent : (s: string) => s;
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

export async function oauth(server: TestServer, path: 'token' | 'revoke', authorization: string, form: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}/api/oauth/${path}`, {
    method: 'POST',
    headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
