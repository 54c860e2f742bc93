// Who is calling, and with which roles where.
import type { ApiKey, ServiceAccount } from '../domain/identity/model.js';

export interface Principal {
  type: 'apiKey' | 'serviceAccount';
  /** API key id or service account client id. */
  id: string;
  /** What logs and audit trails show: the public key or the client id. */
  label: string;
  orgId: string;
  orgRoles: Set<string>;
  projectRoles: Map<string, Set<string>>;
}

export function principalOfApiKey(key: ApiKey): Principal {
  const orgRoles = new Set<string>();
  const projectRoles = new Map<string, Set<string>>();
  for (const role of key.roles) {
    if (role.groupId) {
      const set = projectRoles.get(role.groupId) ?? new Set<string>();
      set.add(role.roleName);
      projectRoles.set(role.groupId, set);
    } else {
      orgRoles.add(role.roleName);
    }
  }
  return { type: 'apiKey', id: key.id, label: key.publicKey, orgId: key.orgId, orgRoles, projectRoles };
}

export function principalOfServiceAccount(account: ServiceAccount): Principal {
  return {
    type: 'serviceAccount',
    id: account.clientId,
    label: account.clientId,
    orgId: account.orgId,
    orgRoles: new Set(account.roles),
    projectRoles: new Map(Object.entries(account.projects).map(([groupId, roles]) => [groupId, new Set(roles)])),
  };
}
