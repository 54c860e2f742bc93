// The first database user, from the same place as the bootstrap API key: the environment's
// MONGODB_ATLAS_DB_USERNAME/MONGODB_ATLAS_DB_PASSWORD (adopted at every start, so changing
// them changes the user), else a generated user whose password is shown once, on the start
// that created it. An atlasAdmin: it may do everything on every workspace of the project.
import { randomToken } from '../../crypto/ids.js';
import { deriveCredentials } from '../../crypto/scram.js';
import type { StoreTx } from '../../store/store.js';
import { insertDatabaseUser } from './database-users.js';
import { KIND, type DatabaseUser } from './model.js';

export const GENERATED_DB_USERNAME = 'emulator-admin';

export interface DatabaseUserEnvironment {
  MONGODB_ATLAS_DB_USERNAME?: string;
  MONGODB_ATLAS_DB_PASSWORD?: string;
}

export interface BootstrapDatabaseUser {
  dbUsername: string;
  /** Only when this start generated it. */
  dbPassword?: string;
  /** True when the password came from MONGODB_ATLAS_DB_PASSWORD. */
  dbPasswordFromEnvironment: boolean;
}

export async function bootstrapDatabaseUser(tx: StoreTx, groupId: string, env: DatabaseUserEnvironment, recorded: string | undefined, now: Date): Promise<BootstrapDatabaseUser> {
  const username = env.MONGODB_ATLAS_DB_USERNAME;
  const password = env.MONGODB_ATLAS_DB_PASSWORD;
  if (username && password) {
    const existing = await tx.getByName<DatabaseUser>(KIND.databaseUser, groupId, username);
    if (existing) await tx.update(KIND.databaseUser, existing.id, { ...existing, credentials: deriveCredentials(username, password) });
    else await insertDatabaseUser(tx, adminUser(groupId, username, now), password, now);
    return { dbUsername: username, dbPasswordFromEnvironment: true };
  }
  if (recorded) return { dbUsername: recorded, dbPasswordFromEnvironment: false };
  const generated = randomToken(18);
  if (!(await tx.getByName(KIND.databaseUser, groupId, GENERATED_DB_USERNAME))) {
    await insertDatabaseUser(tx, adminUser(groupId, GENERATED_DB_USERNAME, now), generated, now);
    return { dbUsername: GENERATED_DB_USERNAME, dbPassword: generated, dbPasswordFromEnvironment: false };
  }
  return { dbUsername: GENERATED_DB_USERNAME, dbPasswordFromEnvironment: false };
}

function adminUser(groupId: string, username: string, now: Date): Omit<DatabaseUser, 'credentials' | 'id'> {
  return {
    groupId, username, databaseName: 'admin', roles: [{ roleName: 'atlasAdmin', databaseName: 'admin' }], scopes: [], labels: [],
    description: 'Bootstrap database user', createdAt: now.toISOString(),
  };
}
