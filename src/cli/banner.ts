// What `serve` prints once it listens: how to point each client at this server.
import type { BootstrapResult } from '../domain/identity/bootstrap.js';

/** storage: where the data lives ({dataDir} or {database}, a URL without its password); undefined when in memory. */
export function connectionBanner(url: string, b: BootstrapResult, storage: { dataDir?: string; database?: string } | undefined): string {
  const privateKey = b.privateKey ?? '<the private key printed on first start>';
  const lines = [
    `atlas-streams-emulator listening on ${url}`,
    storage?.database ? `  database:        ${storage.database}`
      : storage?.dataDir ? `  data directory:  ${storage.dataDir}` : '  storage:         in memory (nothing survives a restart)',
    `  organization:    ${b.orgId}`,
    `  project:         ${b.projectId}`,
    `  API key:         public ${b.publicKey}  private ${privateKey}`,
    ...(b.clientId ? [`  service account: ${b.clientId} (secret from MONGODB_ATLAS_CLIENT_SECRET)`] : []),
    '',
    'Try it:',
    `  curl --digest --user "${b.publicKey}:${privateKey}" --header "Accept: application/vnd.atlas.2023-02-01+json" \\`,
    `    "${url}/api/atlas/v2/groups/${b.projectId}/streams"`,
    '',
    'Atlas CLI:',
    `  export MONGODB_ATLAS_OPS_MANAGER_URL=${url}/`,
    `  export MONGODB_ATLAS_PUBLIC_API_KEY=${b.publicKey} MONGODB_ATLAS_PRIVATE_API_KEY=${privateKey}`,
    `  export MONGODB_ATLAS_ORG_ID=${b.orgId} MONGODB_ATLAS_PROJECT_ID=${b.projectId}`,
    'Go SDK, Terraform provider:',
    `  export MONGODB_ATLAS_BASE_URL=${url}/`,
    `  export MONGODB_ATLAS_PUBLIC_KEY=${b.publicKey} MONGODB_ATLAS_PRIVATE_KEY=${privateKey}`,
    "MongoDB's MCP server (HTTPS and a service account only: --tls-cert/--tls-key, MONGODB_ATLAS_CLIENT_ID/SECRET):",
    `  export MDB_MCP_API_BASE_URL=${url}/ MDB_MCP_API_CLIENT_ID=<client id> MDB_MCP_API_CLIENT_SECRET=<secret> SSL_CERT_FILE=<cert.pem>`,
    'More in docs/connect.md.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}
