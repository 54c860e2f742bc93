// What `serve` prints once it listens: how to point each client at this server.
import type { BootstrapResult } from '../domain/identity/bootstrap.js';

export interface WireBannerInfo {
  portBase: number;
  endpoints: Array<{ instanceName: string; host: string; port: number; tls: boolean }>;
}

function mongoshLines(b: BootstrapResult, wire: WireBannerInfo | undefined): string[] {
  if (!wire || !b.dbUsername) return [];
  const password = b.dbPassword ?? (b.dbPasswordFromEnvironment ? '$MONGODB_ATLAS_DB_PASSWORD' : '<the password printed on first start>');
  const where = wire.portBase === 0 ? 'an ephemeral port' : `port ${wire.portBase} and up`;
  const lines = [
    `mongosh (each stream workspace listens on 127.0.0.1, ${where}${wire.endpoints.some((e) => e.tls) ? ', TLS' : ''}):`,
    `  database user:   ${b.dbUsername}  password ${password}`,
  ];
  for (const e of wire.endpoints) {
    const tls = e.tls ? ' --tls --tlsCAFile <the --tls-cert file>' : '';
    lines.push(`  ${e.instanceName}: mongosh "mongodb://${e.host}:${e.port}/"${tls} --authenticationDatabase admin --username ${b.dbUsername} --password '${password}'`);
  }
  if (wire.endpoints.length === 0) lines.push('  (no workspace yet: GET /emulator/v1/groups/{groupId}/streams/{name} tells the port of one you create)');
  return lines;
}

/** storage: where the data lives ({dataDir} or {database}, a URL without its password); undefined when in memory. */
export function connectionBanner(url: string, b: BootstrapResult, storage: { dataDir?: string; database?: string } | undefined, wire?: WireBannerInfo): string {
  // A private key from the environment is never printed: it is the caller's own, and logs keep banners.
  const privateKey = b.privateKey ?? (b.privateKeyFromEnvironment ? '$MONGODB_ATLAS_PRIVATE_KEY' : '<the private key printed on first start>');
  const lines = [
    `atlas-streams-emulator listening on ${url}`,
    `  web console:     ${url}/  (log in with an API key or a service account)`,
    storage?.database ? `  database:        ${storage.database}`
      : storage?.dataDir ? `  data directory:  ${storage.dataDir}` : '  storage:         in memory (nothing survives a restart)',
    `  organization:    ${b.orgId}`,
    `  project:         ${b.projectId}`,
    `  API key:         public ${b.publicKey}  private ${privateKey}`,
    ...(b.clientId ? [`  service account: ${b.clientId} (secret from MONGODB_ATLAS_CLIENT_SECRET)`] : []),
    '',
    "The README's examples use:",
    `  export URL=${url} PROJECT_ID=${b.projectId} PUBLIC_KEY=${b.publicKey} PRIVATE_KEY=${privateKey}`,
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
    ...mongoshLines(b, wire),
    'More in docs/connect.md.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}
