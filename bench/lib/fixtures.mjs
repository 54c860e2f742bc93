// What the benchmarks act on, made through the API as a client would.
import { MongoClient } from 'mongodb';

export const ACCEPT = 'application/vnd.atlas.2023-02-01+json';

export function streamsUrl(emulator, suffix = '') {
  return `${emulator.url}/api/atlas/v2/groups/${emulator.projectId}/streams${suffix}`;
}

async function call(url, token, method = 'GET', body) {
  const res = await fetch(url, {
    method,
    headers: { Accept: ACCEPT, Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export function connectionBody(name) {
  return { name, type: 'Https', url: 'https://example.com/hook' };
}

/** A stream instance with `connections` HTTPS connections named c0, c1, ...; `fields` adds to its body. */
export async function makeInstance(emulator, token, name, connections = 1, fields = {}) {
  await call(streamsUrl(emulator), token, 'POST', { name, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, ...fields });
  for (let i = 0; i < connections; i++) await call(streamsUrl(emulator, `/${name}/connections`), token, 'POST', connectionBody(`c${i}`));
}

/** A workspace's wire endpoint, as a database user (mongosh's way in). */
export async function wireClient(server, token, workspace, auth) {
  const route = await fetch(`${server.url}/emulator/v1/groups/${server.projectId}/streams/${workspace}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!route.ok) throw new Error(`the workspace's endpoint route answered ${route.status}`);
  const { connectionString } = await route.json();
  const client = new MongoClient(connectionString, { auth, authSource: 'admin', directConnection: true });
  await client.connect();
  return { client, connectionString };
}
