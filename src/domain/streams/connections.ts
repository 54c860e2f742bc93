// Stream connections: the ten types, their validation, write-only secrets sealed at rest
// and never rendered, and the one loader that hands the engine connections with secrets.
import type { ConnectionDefinition, Document } from '../../engine/contract.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { newObjectId } from '../../crypto/ids.js';
import { shownState } from './lifecycles.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { keepOrder } from '../../http/json.js';
import { pagedList, pageOf } from '../../http/pagination.js';
import { schemas } from '../../protocol/generated/schemas.js';
import type { Schema } from '../../protocol/operation-spec.js';
import type { StoreTx } from '../../store/store.js';
import {
  checkObjectName, checkWorkspaceStorage, insertUnique, invalidField, isActive, isObject, jsonCopy, listAllUnder, requireConnection, requiredField,
  requireInstance, STREAMS_KIND, updateUnique, type StoredConnection, type StoredInstance, type StoredProcessor,
} from './common.js';
import { connectionsUsedBy } from './pipelines.js';
import { checkClusterProjectAccess } from './cluster-projects.js';
import { isLeafKey, openLeaf, sealLeaves } from './connection-secrets.js';

export const SAMPLE_SOLAR: Document = { name: 'sample_stream_solar', type: 'Sample' };

// ---------------------------------------------------------------------------------------
// Write-only fields, read off the spec: anything marked writeOnly or format password.

function resolve(schema: Schema): Schema {
  let s = schema;
  while (s.$ref) s = schemas[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

function collectWriteOnly(schema: Schema, prefix: string, into: Set<string>, depth = 0): void {
  if (depth > 8) return;
  const s = resolve(schema);
  for (const member of s.allOf ?? []) {
    // A subtype's allOf names its base, whose oneOf names the subtype again: skip the oneOf.
    collectWriteOnly({ ...resolve(member), oneOf: undefined }, prefix, into, depth + 1);
  }
  // A discriminated field (SchemaRegistry's authentication): every subtype's secrets count.
  for (const member of s.oneOf ?? []) collectWriteOnly(member, prefix, into, depth + 1);
  for (const [name, property] of Object.entries(s.properties ?? {})) {
    const p = resolve(property);
    const path = prefix ? `${prefix}.${name}` : name;
    if (property.writeOnly || p.writeOnly || p.format === 'password') into.add(path);
    else if (p.properties || p.allOf || p.oneOf) collectWriteOnly(p, path, into, depth + 1);
  }
}

const secretPathsByType = new Map<string, string[]>();

/** Dotted paths of the write-only fields of a connection type (Kafka: authentication.password, sslKey, sslKeyPassword). */
export function secretPaths(type: string): string[] {
  let paths = secretPathsByType.get(type);
  if (!paths) {
    const target = schemas['StreamsConnection']?.discriminator?.mapping?.[type];
    const found = new Set<string>();
    if (target) collectWriteOnly({ $ref: target }, '', found);
    paths = [...found].sort();
    secretPathsByType.set(type, paths);
  }
  return paths;
}

function getPath(doc: Document, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), doc);
}

function setPath(doc: Document, path: string, value: unknown): void {
  const keys = path.split('.');
  let target: Document = doc;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(target[key])) target[key] = {};
    target = target[key] as Document;
  }
  target[keys[keys.length - 1]!] = value;
}

function deletePath(doc: Document, path: string): void {
  const keys = path.split('.');
  const parent = getPath(doc, keys.slice(0, -1).join('.')) ?? (keys.length === 1 ? doc : undefined);
  if (isObject(parent)) delete parent[keys[keys.length - 1]!];
}

/**
 * Splits a caller's definition into what may be shown and the sealed secrets: the spec's
 * write-only fields (dropped from view, as Atlas does) and the secrets in free-form parts
 * (shown masked; connection-secrets.ts). `previous` is the connection's sealed map on update.
 */
export function seal(definition: Document, box: SecretBox, previous?: Record<string, string>): { definition: Document; sealed: Record<string, string> } {
  const shown = jsonCopy(definition);
  const sealed: Record<string, string> = {};
  const writeOnly = secretPaths(String(shown['type']));
  for (const path of writeOnly) {
    const value = getPath(shown, path);
    if (value === undefined) continue;
    sealed[path] = box.seal(JSON.stringify(value));
    deletePath(shown, path);
  }
  return { definition: shown, sealed: { ...sealed, ...sealLeaves(shown, box, new Set(writeOnly), previous) } };
}

// ---------------------------------------------------------------------------------------
// Validation beyond the spec's schema: what each type needs to work at all.

const KAFKA_PROTOCOLS = ['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL'];
const KAFKA_MECHANISMS = ['PLAIN', 'SCRAM-256', 'SCRAM-512', 'OAUTHBEARER'];
const ROLE_ARN = /^arn:aws:iam::\d{12}:role\/.+$/;

export async function validateDefinition(tx: StoreTx, groupId: string, def: Document): Promise<void> {
  const type = def['type'] as string;
  const str = (path: string): string | undefined => {
    const v = getPath(def, path);
    return typeof v === 'string' ? v : undefined;
  };
  const need = (path: string): string => {
    const v = str(path);
    if (v === undefined || v === '') throw requiredField(path);
    return v;
  };
  switch (type) {
    case 'Kafka': {
      const servers = need('bootstrapServers');
      if (!servers.split(',').every((s) => /^[^\s:,]+:\d{1,5}$/.test(s.trim()))) {
        throw invalidField('bootstrapServers', servers, 'A comma-separated list of host:port pairs.');
      }
      const protocol = str('security.protocol');
      if (protocol !== undefined && !KAFKA_PROTOCOLS.includes(protocol)) throw new ApiError('INVALID_ENUM_VALUE', [protocol]);
      const mechanism = str('authentication.mechanism');
      if (mechanism !== undefined) {
        if (!KAFKA_MECHANISMS.includes(mechanism)) throw new ApiError('INVALID_ENUM_VALUE', [mechanism]);
        if (mechanism !== 'OAUTHBEARER') { need('authentication.username'); need('authentication.password'); }
      }
      const access = getPath(def, 'networking.access');
      if (isObject(access)) await validateNetworkAccess(tx, groupId, access);
      return;
    }
    case 'Cluster':
      need('clusterName');
      if (getPath(def, 'dbRoleToExecute') !== undefined) { need('dbRoleToExecute.role'); need('dbRoleToExecute.type'); }
      return;
    case 'Https': {
      const url = need('url');
      if (!isHttpUrl(url)) throw invalidField('url', url, 'An absolute http(s) URL.');
      return;
    }
    case 'AWSLambda': case 'S3': case 'AWSKinesisDataStreams': {
      const arn = need('aws.roleArn');
      if (!ROLE_ARN.test(arn)) throw invalidField('aws.roleArn', arn, 'An IAM role ARN: arn:aws:iam::<12 digits>:role/<name>.');
      return;
    }
    case 'AzureBlobStorage':
      need('azure.servicePrincipalId');
      need('azure.storageAccountName');
      if (!/^[a-z0-9]{3,24}$/.test(str('azure.storageAccountName')!)) {
        throw invalidField('azure.storageAccountName', str('azure.storageAccountName'), 'An Azure storage account name: 3 to 24 lower-case letters and digits.');
      }
      return validatePublicPrivate(tx, groupId, def);
    case 'GCPPubSub': {
      const account = need('gcp.serviceAccountId');
      if (!GCP_SERVICE_ACCOUNT.test(account)) {
        throw invalidField('gcp.serviceAccountId', account, 'A GCP service account e-mail: <name>@<project>.iam.gserviceaccount.com.');
      }
      return validatePublicPrivate(tx, groupId, def);
    }
    case 'SchemaRegistry': {
      const urls = getPath(def, 'schemaRegistryUrls');
      if (!Array.isArray(urls) || urls.length === 0) throw requiredField('schemaRegistryUrls');
      for (const url of urls) if (!isHttpUrl(url)) throw invalidField('schemaRegistryUrls', url, 'Each URL is an absolute http(s) URL.');
      if (str('schemaRegistryAuthentication.type') === 'USER_INFO') {
        need('schemaRegistryAuthentication.username');
        need('schemaRegistryAuthentication.password');
      }
      return;
    }
    case 'Sample':
      // The only sample data Atlas offers is the solar generator.
      if (def['name'] !== SAMPLE_SOLAR['name']) throw invalidField('name', def['name'], 'A Sample connection must be named sample_stream_solar.');
      return;
    default:
      throw new ApiError('INVALID_ENUM_VALUE', [type]);
  }
}

const GCP_SERVICE_ACCOUNT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol, hostname } = new URL(value);
    return (protocol === 'https:' || protocol === 'http:') && hostname !== '';
  } catch {
    return false;
  }
}

/** Azure Blob Storage and GCP Pub/Sub reach their service publicly or over a private link of the project. */
async function validatePublicPrivate(tx: StoreTx, groupId: string, def: Document): Promise<void> {
  const access = getPath(def, 'publicPrivateNetworking.access');
  if (isObject(access) && access['type'] === 'PRIVATE_LINK') await validateNetworkAccess(tx, groupId, access);
}

async function validateNetworkAccess(tx: StoreTx, groupId: string, access: Document): Promise<void> {
  const type = access['type'];
  if (type === 'PRIVATE_LINK') {
    const id = access['connectionId'];
    if (typeof id !== 'string') throw requiredField('networking.access.connectionId');
    const link = await tx.get<{ groupId: string }>(STREAMS_KIND.privateLink, id);
    if (!link || link.groupId !== groupId) throw new ApiError('STREAM_PRIVATE_LINK_NOT_FOUND', [id, groupId]);
  }
  if (type === 'TRANSIT_GATEWAY' && typeof access['tgwId'] !== 'string') throw requiredField('networking.access.tgwId');
}

/** Drops `links` the caller may have echoed back; they are the server's, not part of a definition. */
export function withoutLinks(value: unknown, inUserDocument = false): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutLinks(v, inUserDocument));
  if (!isObject(value)) return value;
  const out: Document = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'links' && !inUserDocument) continue;
    out[key] = withoutLinks(v, inUserDocument || key === 'config' || key === 'headers');
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Rendering: server-filled fields added, secrets never present, caller order kept where the
// caller wrote the document (Kafka config, Https headers).

/** connection is the caller's own freshly read copy: a shallow copy is enough, nothing nested is changed. */
export function renderConnection(connection: StoredConnection, instance: StoredInstance): Document {
  return renderDefinition(connection.definition, { id: connection.id, name: connection.name, region: instance.dataProcessRegion.region });
}

/** A stored definition (primary or failover) with the fields the server fills. */
export function renderDefinition(definition: Document, filled: { id: string; name: string; region: string }): Document {
  const out: Document = { ...definition, id: filled.id, name: filled.name, state: 'READY', region: filled.region };
  if (out['type'] === 'Kafka' && out['networking'] === undefined) out['networking'] = { access: { type: 'PUBLIC' } };
  if (isObject(out['config'])) keepOrder(out['config']);
  if (isObject(out['headers'])) keepOrder(out['headers']);
  return out;
}

export async function listConnections(tx: StoreTx, instance: StoredInstance): Promise<StoredConnection[]> {
  return listAllUnder<StoredConnection>(tx, STREAMS_KIND.connection, instance._id);
}

/**
 * Every connection of an instance as the engine needs it: the definition with its secrets
 * decrypted and, for Cluster connections, the emulator-only `connectionString`. Only ever
 * pass the result to the engine; never log or render it.
 */
export async function loadConnectionDefinitions(tx: StoreTx, box: SecretBox, instance: StoredInstance): Promise<Record<string, ConnectionDefinition>> {
  const out: Record<string, ConnectionDefinition> = {};
  for (const connection of await listConnections(tx, instance)) {
    out[connection.name] = await openDefinition(tx, box, instance, connection.name, { type: connection.type, ...connection.definition }, connection.sealed);
  }
  return out;
}

/** A stored definition (a connection's or a failover connection's) as the engine needs it: secrets opened, Cluster address filled in. */
export async function openDefinition(
  tx: StoreTx, box: SecretBox, instance: StoredInstance, name: string, stored: Document, sealedFields: Record<string, string>,
): Promise<ConnectionDefinition> {
  const def = jsonCopy(stored);
  for (const [path, sealed] of Object.entries(sealedFields)) {
    if (isLeafKey(path)) openLeaf(def, path, sealed, box);
    else setPath(def, path, JSON.parse(box.open(sealed)));
  }
  def['name'] = name;
  if (def['type'] === 'Cluster') {
    const address = await tx.get<{ sealedConnectionString: string }>(STREAMS_KIND.clusterAddress,
      clusterAddressId(String(def['clusterGroupId'] ?? instance.groupId), String(def['clusterName'])));
    if (address) def['connectionString'] = box.open(address.sealedConnectionString);
  }
  return def as ConnectionDefinition;
}

/** Every connection of a workspace goes, with the failover connections under each. */
export async function deleteConnectionsOf(tx: StoreTx, instance: StoredInstance): Promise<void> {
  for (const connection of await listConnections(tx, instance)) await deleteConnection(tx, connection);
}

/** A connection whose type changes cannot keep failover connections of the old type. */
async function checkFailoversFit(tx: StoreTx, current: StoredConnection, type: string): Promise<void> {
  if (type !== current.type && (await tx.list(STREAMS_KIND.failoverConnection, current.id, { offset: 0, limit: 1 })).total > 0) {
    throw invalidField('type', type, `Connection ${current.name} has failover connections of type ${current.type}; delete them to change its type.`);
  }
}

async function deleteConnection(tx: StoreTx, connection: StoredConnection): Promise<void> {
  await tx.deleteChildren(STREAMS_KIND.failoverConnection, connection.id);
  await tx.delete(STREAMS_KIND.connection, connection.id);
}

export function clusterAddressId(groupId: string, clusterName: string): string {
  return `${groupId}/${clusterName}`;
}

/** Active processors of the workspace that hold the connection (see isActive). */
async function activeProcessorsUsing(tx: StoreTx, instance: StoredInstance, connectionName: string): Promise<StoredProcessor[]> {
  const processors = await listAllUnder<StoredProcessor>(tx, STREAMS_KIND.processor, instance._id);
  return processors.filter((p) => isActive(p) && connectionsUsedBy(p).has(connectionName));
}

/** A connection an active processor holds cannot be changed or deleted (docs/atlas-behaviour.md, Streams rules). */
export async function refuseIfInUse(tx: StoreTx, instance: StoredInstance, connectionName: string): Promise<void> {
  if ((await activeProcessorsUsing(tx, instance, connectionName)).length > 0) {
    throw new ApiError('STREAM_CONNECTION_HAS_STREAM_PROCESSORS', [connectionName, instance.name]);
  }
}

function authorOf(ctx: RequestContext): StoredConnection['author'] {
  return { type: ctx.principal.type, id: ctx.principal.id };
}

/** Validates and stores a new connection; shared with instance creation (the sample connection). */
export async function insertConnection(ctx: RequestContext, instance: StoredInstance, body: unknown): Promise<StoredConnection> {
  const def = withoutLinks(body) as Document;
  const name = checkObjectName(def['name'], 'Stream connection');
  if (name === '__testLog') throw invalidField('name', name, '__testLog is the built-in test sink and cannot be a connection name.');
  await validateDefinition(ctx.tx, instance.groupId, def);
  await checkClusterProjectAccess(ctx.tx, ctx.principal, instance, def, () => ctx.log);
  const { definition, sealed } = seal(def, ctx.services.secretBox);
  const connection: StoredConnection = {
    id: newObjectId(ctx.services.now().getTime()), instanceId: instance._id, name, type: def['type'] as string,
    definition, sealed, author: authorOf(ctx), createdAt: ctx.services.now().toISOString(),
  };
  await insertUnique(ctx.tx, STREAMS_KIND.connection, { id: connection.id, parentId: instance._id, name }, connection,
    'STREAM_CONNECTION_NAME_ALREADY_EXISTS');
  await checkWorkspaceStorage(ctx.tx, instance, 'connections');
  return connection;
}

/** A connection as a read shows it: PENDING or DELETING while a lifecycle transition lasts. */
function readConnection(ctx: RequestContext, connection: StoredConnection, instance: StoredInstance): Document {
  const out = renderConnection(connection, instance);
  out['state'] = shownState(ctx, connection.id, String(out['state']));
  return out;
}

/** Reads whose answer is the store's content alone (no engine state, no clock): the HTTP layer may reuse them while the store is unchanged. */
export const connectionReadsOfStoreAlone = ['getStreamConnection', 'listStreamConnections'] as const;

export const connectionHandlers: HandlerTable = {
  async listStreamConnections(ctx) {
    const instance = await requireInstance(ctx);
    const page = await ctx.tx.list<StoredConnection>(STREAMS_KIND.connection, instance._id, pageOf(ctx));
    return { body: pagedList(ctx, page, (c) => readConnection(ctx, c, instance)) };
  },

  async createStreamConnection(ctx) {
    const instance = await requireInstance(ctx);
    const connection = await insertConnection(ctx, instance, ctx.body);
    const out = renderConnection(connection, instance);
    out['state'] = ctx.services.lifecycles?.begin('connection', 'create', { id: connection.id, name: connection.name, state: String(out['state']) }) ?? out['state'];
    return { status: 200, body: out };
  },

  async getStreamConnection(ctx) {
    const instance = await requireInstance(ctx);
    return { body: readConnection(ctx, await requireConnection(ctx, instance), instance) };
  },

  async updateStreamConnection(ctx) {
    const instance = await requireInstance(ctx);
    const current = await requireConnection(ctx, instance);
    await refuseIfInUse(ctx.tx, instance, current.name);
    await checkFailoversFit(ctx.tx, current, String((ctx.body as Document | undefined)?.['type']));
    // PATCH replaces the whole definition; a body without a name keeps the current one.
    const def = withoutLinks(ctx.body) as Document;
    def['name'] ??= current.name;
    const name = checkObjectName(def['name'], 'Stream connection');
    if (name === '__testLog') throw invalidField('name', name, '__testLog is the built-in test sink and cannot be a connection name.');
    await validateDefinition(ctx.tx, instance.groupId, def);
    await checkClusterProjectAccess(ctx.tx, ctx.principal, instance, def, () => ctx.log);
    const { definition, sealed } = seal(def, ctx.services.secretBox, current.sealed);
    const updated: StoredConnection = { ...current, name, type: def['type'] as string, definition, sealed, author: authorOf(ctx) };
    await updateUnique(ctx.tx, STREAMS_KIND.connection, current.id, updated, name, 'STREAM_CONNECTION_NAME_ALREADY_EXISTS');
    await checkWorkspaceStorage(ctx.tx, instance, 'connections');
    return { body: renderConnection(updated, instance) };
  },

  async deleteStreamConnection(ctx) {
    const instance = await requireInstance(ctx);
    const connection = await requireConnection(ctx, instance);
    await refuseIfInUse(ctx.tx, instance, connection.name);
    // With a lifecycle rule the connection drains as Atlas's do: readable (DELETING), its name
    // taken, until the transition ends.
    const { store, lifecycles } = ctx.services;
    const draining = lifecycles?.begin('connection', 'delete', { id: connection.id, name: connection.name, state: 'READY' }, () => store.transaction(async (tx) => {
      const current = await tx.get<StoredConnection>(STREAMS_KIND.connection, connection.id);
      if (current) await deleteConnection(tx, current);
    }));
    if (!draining) await deleteConnection(ctx.tx, connection);
    return { status: 202, body: {} };
  },
};
