// Module resolution hooks for single-node-fetch.mjs (runs on Node's loader thread):
// "node-fetch" imported by @mongodb-js/mcp-fetch resolves to the copy that its
// dependency @mongodb-js/devtools-proxy-support imports.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'node-fetch' && context.parentURL?.includes('/@mongodb-js/mcp-fetch/')) {
    const proxySupport = await nextResolve('@mongodb-js/devtools-proxy-support', context);
    return nextResolve('node-fetch', { ...context, parentURL: proxySupport.url });
  }
  return nextResolve(specifier, context);
}
