// Organizations (read only): the caller's own organization.
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import { KIND, type Organization } from './model.js';
import { listOrganizationProjects } from './projects.js';

export function renderOrganization(org: Organization): Record<string, unknown> {
  return { id: org.id, isDeleted: false, name: org.name, skipDefaultAlertsSettings: false };
}

async function callerOrganizations(ctx: RequestContext): Promise<Organization[]> {
  const org = await ctx.tx.get<Organization>(KIND.org, ctx.principal.orgId);
  return org ? [org] : [];
}

export const organizationHandlers: HandlerTable = {
  async listOrgs(ctx) {
    const name = ctx.query['name'];
    const orgs = (await callerOrganizations(ctx)).filter((o) => name === undefined || o.name === name);
    return { body: pagedList(ctx, pageArray(ctx, orgs), renderOrganization) };
  },

  async getOrg(ctx) {
    return { body: renderOrganization(ctx.org!) };
  },

  getOrgGroups: listOrganizationProjects,
};
