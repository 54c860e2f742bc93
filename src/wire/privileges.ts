// What a database user's roles let it do on a stream workspace (WIRE.md §1): atlasAdmin and
// readWriteAnyDatabase everything; readAnyDatabase only what reads (list processors and
// connections, stats, get one). Other roles grant no stream processing action.
import type { DatabaseUserRole } from '../domain/identity/model.js';
import { MESSAGES, WireError } from './errors.js';

export type Access = 'read' | 'write';

const WRITE_ROLES = new Set(['atlasAdmin', 'readWriteAnyDatabase']);
const READ_ROLES = new Set(['readAnyDatabase']);

export function accessOf(roles: readonly DatabaseUserRole[]): Access | undefined {
  const onAdmin = roles.filter((r) => r.databaseName === 'admin').map((r) => r.roleName);
  if (onAdmin.some((r) => WRITE_ROLES.has(r))) return 'write';
  if (onAdmin.some((r) => READ_ROLES.has(r))) return 'read';
  return undefined;
}

/** Throws Unauthorized (13) unless the roles allow `needed` for the command's action. */
export function requireAccess(roles: readonly DatabaseUserRole[], needed: Access, action: string, workspace: string): void {
  const held = accessOf(roles);
  if (held === 'write' || (held === 'read' && needed === 'read')) return;
  throw new WireError('Unauthorized', MESSAGES.missingPrivilege(action, `stream workspace ${workspace}`));
}
