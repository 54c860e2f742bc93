// IP access lists of API keys and service accounts: the same rules for both owners, which
// differ only in the store kind, the error for a missing entry and the rendered field names.
// authenticate.ts enforces these lists and counts their use by the entry's `id`.
import { BlockList, isIP } from 'node:net';
import { newObjectId } from '../../crypto/ids.js';
import type { RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import { selfLinks } from './links.js';
import { KIND, type AccessListEntry } from './model.js';

export type StoredAccessListEntry = AccessListEntry & { id: string };

export interface AccessListOwner {
  kind: typeof KIND.apiKeyAccess | typeof KIND.serviceAccountAccess;
  /** The API key id or the service account client id. */
  id: string;
  notFound(address: string): ApiError;
  render(entry: StoredAccessListEntry): Record<string, unknown>;
}

export function apiKeyAccessOwner(ctx: RequestContext, orgId: string, apiKeyId: string): AccessListOwner {
  return {
    kind: KIND.apiKeyAccess,
    id: apiKeyId,
    notFound: (address) => new ApiError('ACCESS_LIST_ENTRY_NOT_FOUND', [address, apiKeyId]),
    render: (e) => ({
      cidrBlock: e.cidrBlock,
      count: e.count,
      created: e.created,
      ipAddress: e.ipAddress,
      lastUsed: e.lastUsed,
      lastUsedAddress: e.lastUsedAddress,
      links: selfLinks(ctx, `/orgs/${orgId}/apiKeys/${apiKeyId}/accessList/${encodeURIComponent(addressOf(e))}`),
    }),
  };
}

export function serviceAccountAccessOwner(clientId: string): AccessListOwner {
  return {
    kind: KIND.serviceAccountAccess,
    id: clientId,
    notFound: (address) => new ApiError('SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_NOT_FOUND', [address, clientId]),
    render: (e) => ({
      cidrBlock: e.cidrBlock,
      createdAt: e.created,
      ipAddress: e.ipAddress,
      lastUsedAddress: e.lastUsedAddress,
      lastUsedAt: e.lastUsed,
      requestCount: e.count,
    }),
  };
}

function addressOf(entry: Pick<AccessListEntry, 'ipAddress' | 'cidrBlock'>): string {
  return entry.ipAddress ?? entry.cidrBlock ?? '';
}

function invalid(value: unknown): ApiError {
  return new ApiError('ACCESS_LIST_ENTRY_INVALID', [typeof value === 'string' ? value : JSON.stringify(value)]);
}

function normalizeIp(value: string): string {
  if (isIP(value) === 0) throw invalid(value);
  return value.toLowerCase();
}

/** `net/bits`, with the URL-encoded slash (`%2F`) the spec allows; the prefix must fit the family. */
function normalizeCidr(value: string): string {
  const [network, bits, ...rest] = value.replace(/%2f/gi, '/').split('/');
  if (network === undefined || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) throw invalid(value);
  const family = isIP(network);
  const prefix = Number(bits);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) throw invalid(value);
  try {
    new BlockList().addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    throw invalid(value);
  }
  return `${network.toLowerCase()}/${prefix}`;
}

/** An address or CIDR block as a path names it (decoded once by the router; `%2F` tolerated). */
export function addressFromPath(value: string): string {
  return value.includes('/') || /%2f/i.test(value) ? normalizeCidr(value) : normalizeIp(value);
}

/** Checks every requested entry before any is stored: one bad entry stores none. */
function parseEntries(body: unknown): Array<Pick<AccessListEntry, 'ipAddress' | 'cidrBlock'>> {
  if (!Array.isArray(body)) throw new ApiError('INVALID_JSON_ATTRIBUTE', ['body']);
  return body.map((raw: { ipAddress?: string; cidrBlock?: string }) => {
    const hasIp = raw.ipAddress !== undefined;
    const hasCidr = raw.cidrBlock !== undefined;
    if (hasIp === hasCidr) throw invalid(raw);
    return hasIp ? { ipAddress: normalizeIp(raw.ipAddress!) } : { cidrBlock: normalizeCidr(raw.cidrBlock!) };
  });
}

export async function listAccessList(ctx: RequestContext, owner: AccessListOwner) {
  const { items } = await ctx.tx.list<StoredAccessListEntry>(owner.kind, owner.id);
  return { body: pagedList(ctx, pageArray(ctx, items), owner.render) };
}

/** Adds the entries not already listed (adding one again changes nothing) and answers the whole list. */
export async function addToAccessList(ctx: RequestContext, owner: AccessListOwner) {
  const entries = parseEntries(ctx.body);
  const created = ctx.services.now().toISOString();
  for (const entry of entries) {
    const name = addressOf(entry);
    if (await ctx.tx.getByName(owner.kind, owner.id, name)) continue;
    const id = newObjectId();
    await ctx.tx.insert<StoredAccessListEntry>(owner.kind, { id, parentId: owner.id, name }, { id, ...entry, created, count: 0 });
  }
  return listAccessList(ctx, owner);
}

export async function requireAccessListEntry(ctx: RequestContext, owner: AccessListOwner): Promise<StoredAccessListEntry> {
  const raw = ctx.params['ipAddress']!;
  let address: string;
  try {
    address = addressFromPath(raw);
  } catch {
    throw owner.notFound(raw);
  }
  const entry = await ctx.tx.getByName<StoredAccessListEntry>(owner.kind, owner.id, address);
  if (!entry) throw owner.notFound(address);
  return entry;
}

export async function getAccessListEntry(ctx: RequestContext, owner: AccessListOwner) {
  return { body: owner.render(await requireAccessListEntry(ctx, owner)) };
}

export async function removeFromAccessList(ctx: RequestContext, owner: AccessListOwner) {
  const entry = await requireAccessListEntry(ctx, owner);
  await ctx.tx.delete(owner.kind, entry.id);
  return {};
}
