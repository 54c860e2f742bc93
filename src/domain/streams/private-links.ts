// Private link connections of a project. Nothing is provisioned in a cloud here: a link is
// complete (DONE) as soon as it is created, with endpoint identifiers derived from its id.
import { createHash } from 'node:crypto';
import { newObjectId } from '../../crypto/ids.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pagedList, pageOf } from '../../http/pagination.js';
import { shownState } from './lifecycles.js';
import { groupIdOf, invalidField, jsonCopy, listAllUnder, requiredField, STREAMS_KIND } from './common.js';

/** States Atlas reports: IDLE, WORKING, DONE, FAILED, DELETE_REQUESTED, DELETING, DELETED. */
interface StoredPrivateLink {
  _id: string;
  groupId: string;
  /** The caller's fields, provider upper-cased. */
  definition: Record<string, unknown>;
  state: string;
  interfaceEndpointId: string;
  interfaceEndpointName: string;
  providerAccountId: string;
  createdAt: string;
}

const PROVIDERS = ['AWS', 'AZURE', 'GCP'];

function digits(seed: string, n: number): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return [...hex].map((c) => String(parseInt(c, 16) % 10)).join('').slice(0, n);
}

/** What each provider (and vendor) needs to reach the other side. */
function checkDefinition(def: Record<string, unknown>): void {
  const provider = def['provider'] as string;
  const vendor = typeof def['vendor'] === 'string' ? def['vendor'].toUpperCase() : undefined;
  const need = (field: string) => { if (def[field] === undefined || def[field] === '') throw requiredField(field); };
  if (provider === 'AWS' && vendor === 'MSK') return need('arn');
  if (provider === 'AWS' || provider === 'AZURE') { need('region'); need('serviceEndpointId'); need('dnsDomain'); return; }
  need('region');
}

function sameTarget(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const key = (d: Record<string, unknown>) => JSON.stringify([d['provider'], d['region'] ?? null, d['arn'] ?? null, d['serviceEndpointId'] ?? null]);
  return key(a) === key(b);
}

function render(link: StoredPrivateLink): Record<string, unknown> {
  return {
    ...jsonCopy(link.definition), _id: link._id, state: link.state, interfaceEndpointId: link.interfaceEndpointId,
    interfaceEndpointName: link.interfaceEndpointName, providerAccountId: link.providerAccountId,
  };
}

/** A link as a read shows it: WORKING or DELETING while a lifecycle transition lasts. */
function readLink(ctx: RequestContext, link: StoredPrivateLink): Record<string, unknown> {
  return { ...render(link), state: shownState(ctx, link._id, link.state) };
}

async function requireLink(ctx: RequestContext): Promise<StoredPrivateLink> {
  const id = ctx.params['connectionId']!;
  const link = await ctx.tx.get<StoredPrivateLink>(STREAMS_KIND.privateLink, id);
  if (!link || link.groupId !== groupIdOf(ctx)) throw new ApiError('STREAM_PRIVATE_LINK_NOT_FOUND', [id, groupIdOf(ctx)]);
  return link;
}

export const privateLinkHandlers: HandlerTable = {
  async listPrivateLinkConnections(ctx) {
    const page = await ctx.tx.list<StoredPrivateLink>(STREAMS_KIND.privateLink, groupIdOf(ctx), pageOf(ctx));
    return { body: pagedList(ctx, page, (link) => readLink(ctx, link)) };
  },

  async createPrivateLinkConnection(ctx) {
    const definition = jsonCopy(ctx.body as Record<string, unknown>);
    delete definition['links'];
    const provider = String(definition['provider']).toUpperCase();
    if (!PROVIDERS.includes(provider)) {
      throw invalidField('provider', definition['provider'], `One of ${PROVIDERS.join(', ')} (any case).`);
    }
    definition['provider'] = provider;
    checkDefinition(definition);
    const groupId = groupIdOf(ctx);
    const existing = await listAllUnder<StoredPrivateLink>(ctx.tx, STREAMS_KIND.privateLink, groupId);
    if (existing.some((l) => sameTarget(l.definition, definition))) throw new ApiError('STREAM_PRIVATE_LINK_ALREADY_EXISTS', [provider]);
    const now = ctx.services.now();
    const id = newObjectId(now.getTime());
    const link: StoredPrivateLink = {
      _id: id, groupId, definition, state: 'DONE',
      interfaceEndpointId: provider === 'AZURE' ? `/subscriptions/${digits(id, 8)}/privateEndpoints/pe-${id}` : `vpce-${id.slice(7)}`,
      interfaceEndpointName: `atlas-stream-pl-${id}`,
      providerAccountId: digits(`${groupId}:${provider}`, 12),
      createdAt: now.toISOString(),
    };
    await ctx.tx.insert(STREAMS_KIND.privateLink, { id, parentId: groupId }, link);
    const out = render(link);
    out['state'] = ctx.services.lifecycles?.begin('privateLink', 'create', { id, name: id, state: link.state }) ?? link.state;
    return { status: 200, body: out };
  },

  async getPrivateLinkConnection(ctx) {
    return { body: readLink(ctx, await requireLink(ctx)) };
  },

  async updatePrivateLinkConnection(ctx) {
    const link = await requireLink(ctx);
    const dnsDomain = (ctx.body as { dnsDomain?: string } | undefined)?.dnsDomain;
    if (dnsDomain === undefined) throw requiredField('dnsDomain');
    if (dnsDomain === '') throw invalidField('dnsDomain', dnsDomain, 'A domain hostname.');
    // Atlas allows setting the domain only while none is set or the link is still IDLE.
    const current = link.definition['dnsDomain'];
    if (current !== undefined && current !== dnsDomain && link.state !== 'IDLE') {
      throw new ApiError('STREAM_PRIVATE_LINK_INVALID_STATE', [link._id, link.state]);
    }
    const updated: StoredPrivateLink = { ...link, definition: { ...link.definition, dnsDomain } };
    await ctx.tx.update(STREAMS_KIND.privateLink, link._id, updated);
    return { body: render(updated) };
  },

  async deletePrivateLinkConnection(ctx) {
    const link = await requireLink(ctx);
    const { store, lifecycles } = ctx.services;
    const draining = lifecycles?.begin('privateLink', 'delete', { id: link._id, name: link._id, state: link.state },
      () => store.transaction((tx) => tx.delete(STREAMS_KIND.privateLink, link._id).then(() => undefined)));
    if (!draining) await ctx.tx.delete(STREAMS_KIND.privateLink, link._id);
    return { status: 202, body: {} };
  },
};
