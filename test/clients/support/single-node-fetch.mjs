// Loaded into the MCP server process with NODE_OPTIONS=--import=<this file>.
//
// Why: in this repository's node_modules, @stoplight/prism-cli hoists node-fetch@2 to the
// top, so npm keeps two separate copies of node-fetch@3: one under @mongodb-js/mcp-fetch
// and one under @mongodb-js/devtools-proxy-support. The MCP server builds its Atlas API
// requests with the first copy's Request class and sends them with the second copy's
// fetch, which does not recognise a foreign Request and fails every Atlas call with
// "TypeError: Invalid URL" before anything reaches the network. A standalone install of
// mongodb-mcp-server (npx) has a single hoisted node-fetch@3 and does not hit this.
// This hook makes every import of "node-fetch" from the MCP server's packages resolve to
// the one copy devtools-proxy-support uses. It changes nothing about the HTTP traffic.
import { register } from 'node:module';

register(new URL('./single-node-fetch-hooks.mjs', import.meta.url));
