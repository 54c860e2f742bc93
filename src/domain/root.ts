// The root status endpoints.
import type { HandlerTable } from '../http/context.js';
import { KIND, type ApiKey } from './identity/model.js';

const BUILD = process.env['npm_package_version'] ?? '0.1.0';

export const rootHandlers: HandlerTable = {
  async getSystemStatus(ctx) {
    const key = ctx.principal.type === 'apiKey' ? await ctx.tx.get<ApiKey>(KIND.apiKey, ctx.principal.id) : undefined;
    return {
      body: {
        apiKey: key ? {
          accessList: [],
          id: key.id,
          publicKey: key.publicKey,
          roles: key.roles.map((r) => ({ ...r })),
        } : null,
        appName: 'MongoDB Atlas',
        build: BUILD,
        links: [{ href: ctx.url.href, rel: 'self' }],
        throttling: false,
      },
    };
  },

  // This server runs on the caller's own machine: the only control plane address is loopback.
  async listControlPlaneAddresses() {
    const none = { aws: {}, azure: {}, gcp: {} };
    return { body: { inbound: none, outbound: none } };
  },
};
