// The IP access lists of organization API keys.
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { addToAccessList, apiKeyAccessOwner, getAccessListEntry, listAccessList, removeFromAccessList, type AccessListOwner } from './access-lists.js';
import { requireApiKey } from './api-keys.js';

async function ownerOf(ctx: RequestContext): Promise<AccessListOwner> {
  const key = await requireApiKey(ctx.tx, ctx.org!.id, ctx.params['apiUserId']!);
  return apiKeyAccessOwner(ctx, key.orgId, key.id);
}

export const apiKeyAccessListHandlers: HandlerTable = {
  async listOrgAccessEntries(ctx) {
    return listAccessList(ctx, await ownerOf(ctx));
  },
  async createOrgAccessEntry(ctx) {
    return addToAccessList(ctx, await ownerOf(ctx));
  },
  async getOrgAccessEntry(ctx) {
    return getAccessListEntry(ctx, await ownerOf(ctx));
  },
  async deleteAccessEntry(ctx) {
    return removeFromAccessList(ctx, await ownerOf(ctx));
  },
};
