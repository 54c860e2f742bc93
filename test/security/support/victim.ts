// A second organization ("B") beside the server's own, holding one of everything, each with
// a recognisable planted secret. The security tests attack it from organization A and look
// for its secrets everywhere. Atlas has no API that creates an organization, so B's record
// and its owner key go into the store the way the bootstrap writes the first ones; all the
// rest is made through the API with B's own key.
import { expect } from 'vitest';
import { digestHa1 } from '../../../src/http/auth/digest.js';
import { newObjectId } from '../../../src/crypto/ids.js';
import { KIND, type ApiKey, type Organization } from '../../../src/domain/identity/model.js';
import type { OperationSpec } from '../../../src/protocol/operation-spec.js';
import { ACCEPT, callDigest, type ApiKeyCredentials, type CallOptions, type CallResult, type TestServer } from '../../../src/testing/harness.js';

const V2 = '/api/atlas/v2';
const REGION = { cloudProvider: 'AWS', region: 'VIRGINIA_USA' };

/** Every secret planted in B; none may ever be seen again after the response that created it. */
export const PLANTED = {
  kafkaPassword: 'PLANTED-kafka-sasl-password-7f3a',
  kafkaSslKeyPassword: 'PLANTED-kafka-ssl-key-pass-19c2',
  kafkaConfigSecret: 'PLANTED-kafka-config-jaas-secret-55e1',
  httpsHeader: 'PLANTED-https-authorization-header-b4d0',
  clusterConnectionString: 'mongodb://planted-user:PLANTED-cluster-password-0aa7@localhost:1',
  // Passwords in a URL's userinfo: an Https url, a schema registry URL, a Kafka config URL.
  httpsUrlPassword: 'PLANTED-https-url-password-3c81',
  schemaRegistryUrlPassword: 'PLANTED-registry-url-password-6a2f',
  kafkaConfigUrlPassword: 'PLANTED-kafka-config-url-password-d917',
} as const;

export interface Victim {
  orgId: string;
  groupId: string;
  owner: ApiKeyCredentials;
  tenantName: string;
  connectionName: string;
  processorName: string;
  privateLinkId: string;
  vpcPeeringId: string;
  orgKeyId: string;
  projectKeyId: string;
  clientId: string;
  projectClientId: string;
  secretId: string;
  ipAddress: string;
  /** Secrets the server generated for B: private keys and service account secrets. */
  generated: string[];
}

async function seedOrganization(server: TestServer): Promise<{ orgId: string; owner: ApiKeyCredentials }> {
  const orgId = newObjectId();
  const owner = { publicKey: 'victimbk', privateKey: `PLANTED-owner-private-key-${newObjectId()}` };
  const now = new Date().toISOString();
  await server.app.store.transaction(async (tx) => {
    await tx.insert<Organization>(KIND.org, { id: orgId }, { id: orgId, name: 'Victim-Organization', createdAt: now });
    const key: ApiKey = {
      id: newObjectId(), orgId, publicKey: owner.publicKey, desc: 'victim owner', ha1: digestHa1(owner.publicKey, owner.privateKey),
      privateKeyTail: owner.privateKey.slice(-12), roles: [{ roleName: 'ORG_OWNER', orgId }], createdAt: now,
    };
    await tx.insert(KIND.apiKey, { id: key.id, parentId: orgId, name: owner.publicKey }, key);
  });
  return { orgId, owner };
}

/** Every response text createVictim saw goes to seen, when given. */
export async function createVictim(server: TestServer, seen?: string[]): Promise<Victim> {
  const { orgId, owner } = await seedOrganization(server);
  return populateOrganization(server, orgId, owner, seen);
}

/** One of everything in an organization that exists already, made with its owner key. */
export async function populateOrganization(server: { url: string }, orgId: string, owner: ApiKeyCredentials, seen?: string[]): Promise<Victim> {
  const generated = [owner.privateKey];
  const call = async (path: string, options: CallOptions = {}, expected = 200): Promise<CallResult> => {
    const res = await callDigest(`${server.url}${V2}${path}`, owner, { accept: ACCEPT.latest, ...options });
    seen?.push(res.text);
    expect(res.status, `${options.method ?? 'GET'} ${path}: ${res.text.slice(0, 300)}`).toBe(expected);
    return res;
  };
  const groupId = (await call('/groups', { method: 'POST', body: { name: 'victim-project', orgId } })).json.id as string;
  const streams = `/groups/${groupId}/streams`;
  const tenantName = 'victim-instance';
  await call(`${streams}:withSampleConnections`, { method: 'POST', accept: 'application/vnd.atlas.2024-08-05+json', body: { name: tenantName, dataProcessRegion: REGION } });
  await call(`${streams}/${tenantName}/connections`, { method: 'POST', body: {
    name: 'victim-kafka', type: 'Kafka', bootstrapServers: 'localhost:9092',
    authentication: { mechanism: 'PLAIN', username: 'victim', password: PLANTED.kafkaPassword, sslKeyPassword: PLANTED.kafkaSslKeyPassword },
    security: { protocol: 'SASL_SSL' },
    config: {
      'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required password="${PLANTED.kafkaConfigSecret}";`,
      'schema.registry.url': `https://victim:${PLANTED.kafkaConfigUrlPassword}@127.0.0.1:9`,
    },
  } });
  await call(`${streams}/${tenantName}/connections`, { method: 'POST', body: {
    name: 'victim-https', type: 'Https', url: `https://victim:${PLANTED.httpsUrlPassword}@127.0.0.1:9/hook`, headers: { Authorization: `Bearer ${PLANTED.httpsHeader}` },
  } });
  await call(`${streams}/${tenantName}/connections`, { method: 'POST', body: {
    name: 'victim-registry', type: 'SchemaRegistry', provider: 'CONFLUENT', schemaRegistryUrls: [`https://victim:${PLANTED.schemaRegistryUrlPassword}@127.0.0.1:9`],
    schemaRegistryAuthentication: { type: 'USER_INFO', username: 'victim', password: PLANTED.kafkaPassword },
  } });
  const processorName = 'victim-processor';
  await call(`${streams}/${tenantName}/processor`, { method: 'POST', accept: ACCEPT.processors, body: {
    name: processorName, pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }],
  } });
  const privateLinkId = (await call(`${streams}/privateLinkConnections`, { method: 'POST', body: {
    provider: 'AWS', region: 'us-east-1', serviceEndpointId: 'com.amazonaws.vpce.us-east-1.vpce-svc-999999', dnsDomain: 'example.com', dnsSubDomain: ['a.example.com'],
  } })).json._id as string;
  const peering = await callDigest(`${server.url}/emulator/v1/groups/${groupId}/streams/vpcPeeringConnections`, owner, {
    method: 'POST', body: { requesterAccountId: '123456789012', requesterVpcId: 'vpc-victim', requesterCidr: '10.0.0.0/16', region: 'us-east-1' },
  });
  expect(peering.status, peering.text).toBeLessThan(300);
  const cluster = await callDigest(`${server.url}/emulator/v1/groups/${groupId}/clusters/victim-cluster`, owner, {
    method: 'PUT', body: { connectionString: PLANTED.clusterConnectionString },
  });
  expect(cluster.status, cluster.text).toBeLessThan(300);

  const orgKey = (await call(`/orgs/${orgId}/apiKeys`, { method: 'POST', body: { desc: 'victim org key', roles: ['ORG_MEMBER'] } })).json;
  const ipAddress = '192.0.2.77';
  await call(`/orgs/${orgId}/apiKeys/${orgKey.id}/accessList`, { method: 'POST', body: [{ ipAddress }] });
  const projectKey = (await call(`/groups/${groupId}/apiKeys`, { method: 'POST', body: { desc: 'victim project key', roles: ['GROUP_READ_ONLY'] } })).json;
  const account = (await call(`/orgs/${orgId}/serviceAccounts`, { method: 'POST', body: {
    name: 'victim-account', description: 'victim', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 24,
  } }, 201)).json;
  await call(`/orgs/${orgId}/serviceAccounts/${account.clientId}/accessList`, { method: 'POST', body: [{ ipAddress }] }, 200);
  const projectAccount = (await call(`/groups/${groupId}/serviceAccounts`, { method: 'POST', body: {
    name: 'victim-project-account', description: 'victim', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 24,
  } }, 201)).json;
  generated.push(orgKey.privateKey, projectKey.privateKey, account.secrets[0].secret, projectAccount.secrets[0].secret);
  return {
    orgId, groupId, owner, tenantName, connectionName: 'victim-kafka', processorName, privateLinkId,
    vpcPeeringId: peering.json._id as string, orgKeyId: orgKey.id, projectKeyId: projectKey.id,
    clientId: account.clientId, projectClientId: projectAccount.clientId, secretId: account.secrets[0].id, ipAddress, generated,
  };
}

/** B's own value of each path parameter of op. */
export function victimParam(victim: Victim, name: string, op: OperationSpec): string {
  const underOrg = op.path.includes('/orgs/');
  const values: Record<string, string> = {
    groupId: victim.groupId, orgId: victim.orgId, tenantName: victim.tenantName, connectionName: victim.connectionName,
    processorName: victim.processorName, connectionId: victim.privateLinkId, id: victim.vpcPeeringId,
    apiUserId: underOrg ? victim.orgKeyId : victim.projectKeyId, clientId: underOrg ? victim.clientId : victim.projectClientId,
    secretId: victim.secretId, ipAddress: victim.ipAddress, databaseName: 'admin', username: 'victim-user',
    failoverConnectionId: victim.privateLinkId, groupName: 'victim-project',
  };
  const value = values[name];
  if (value === undefined) throw new Error(`${op.operationId}: no victim value for {${name}}`);
  return value;
}

/** op's path with every parameter filled by value. */
export function fillPath(op: OperationSpec, value: (name: string) => string): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(value(name)).replace(/%3A/gi, ':'));
}
