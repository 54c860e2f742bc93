// First start: an organization, a project and an org-owner API key, so that a user can
// connect at once. The client's own environment (MONGODB_ATLAS_*) is honoured so that
// existing Atlas CLI and Go SDK settings work unchanged.
import { newObjectId, newUuid } from '../../crypto/ids.js';
import { digestHa1 } from '../../http/auth/digest.js';
import { hashSecret } from '../../http/auth/oauth.js';
import type { StoreTx } from '../../store/store.js';
import { KIND, type ApiKey, type Organization, type Project, type ServiceAccount, type ServiceAccountSecret } from './model.js';
import { maskedSecret, newPublicKey } from './credentials.js';
import { bootstrapDatabaseUser, type BootstrapDatabaseUser, type DatabaseUserEnvironment } from './bootstrap-database-user.js';

export interface BootstrapEnvironment extends DatabaseUserEnvironment {
  MONGODB_ATLAS_PUBLIC_KEY?: string;
  MONGODB_ATLAS_PRIVATE_KEY?: string;
  MONGODB_ATLAS_CLIENT_ID?: string;
  MONGODB_ATLAS_CLIENT_SECRET?: string;
  MONGODB_ATLAS_ORG_ID?: string;
  MONGODB_ATLAS_PROJECT_ID?: string;
}

/** What the server prints on start. Plain secrets appear only when this start created them. */
export interface BootstrapResult extends Partial<BootstrapDatabaseUser> {
  orgId: string;
  projectId: string;
  publicKey: string;
  privateKey?: string;
  /** The key is MONGODB_ATLAS_PRIVATE_KEY's (never printed). */
  privateKeyFromEnvironment?: boolean;
  clientId?: string;
  clientSecret?: string;
  created: boolean;
}

const SETTING_BOOTSTRAP = 'bootstrap';
const BOOTSTRAP_ACCOUNT = 'bootstrap-owner';
const OBJECT_ID = /^[a-f0-9]{24}$/;

/** The identities the server made at first start (what a reset keeps). */
export async function bootstrapRecord(tx: StoreTx): Promise<BootstrapResult | undefined> {
  return tx.get<BootstrapResult>(KIND.setting, SETTING_BOOTSTRAP);
}

export async function bootstrap(tx: StoreTx, env: BootstrapEnvironment, now: Date): Promise<BootstrapResult> {
  const previous = await tx.get<BootstrapResult>(KIND.setting, SETTING_BOOTSTRAP);
  if (previous) {
    const credentials = await adoptEnvironmentCredentials(tx, previous, env, now);
    const dbUser = await bootstrapDatabaseUser(tx, previous.projectId, env, previous.dbUsername, now);
    await updateBootstrapRecord(tx, { dbUsername: dbUser.dbUsername });
    return { ...previous, created: false, ...credentials, ...dbUser };
  }

  const orgId = env.MONGODB_ATLAS_ORG_ID && OBJECT_ID.test(env.MONGODB_ATLAS_ORG_ID) ? env.MONGODB_ATLAS_ORG_ID : newObjectId();
  const projectId = env.MONGODB_ATLAS_PROJECT_ID && OBJECT_ID.test(env.MONGODB_ATLAS_PROJECT_ID) ? env.MONGODB_ATLAS_PROJECT_ID : newObjectId();
  const createdAt = now.toISOString();
  await tx.insert<Organization>(KIND.org, { id: orgId }, { id: orgId, name: 'Local-Organization', createdAt });
  await tx.insert<Project>(KIND.project, { id: projectId, parentId: orgId, name: 'Local-Project' }, {
    id: projectId, name: 'Local-Project', orgId, created: createdAt, withDefaultAlertsSettings: true, tags: [],
  });
  const record: BootstrapResult = { orgId, projectId, publicKey: '', created: true };
  const credentials = await adoptEnvironmentCredentials(tx, record, env, now);
  const dbUser = await bootstrapDatabaseUser(tx, projectId, env, undefined, now);
  const stored = { ...record, ...credentials, dbUsername: dbUser.dbUsername, privateKey: undefined, clientSecret: undefined, created: false };
  await tx.insert(KIND.setting, { id: SETTING_BOOTSTRAP }, stored);
  return { ...record, ...credentials, ...dbUser };
}

/** Makes the environment's key and service account the org owners (once), or a fresh key on first start. */
async function adoptEnvironmentCredentials(tx: StoreTx, record: BootstrapResult, env: BootstrapEnvironment, now: Date): Promise<Partial<BootstrapResult>> {
  const out: Partial<BootstrapResult> = {};
  const wantsKey = env.MONGODB_ATLAS_PUBLIC_KEY && env.MONGODB_ATLAS_PRIVATE_KEY;
  if (wantsKey || !record.publicKey) {
    const publicKey = wantsKey ? env.MONGODB_ATLAS_PUBLIC_KEY! : newPublicKey();
    const privateKey = wantsKey ? env.MONGODB_ATLAS_PRIVATE_KEY! : newUuid();
    const existing = await tx.findByName<ApiKey>(KIND.apiKey, publicKey);
    const key: ApiKey = {
      id: existing?.id ?? newObjectId(), orgId: record.orgId, publicKey, desc: 'Bootstrap organization owner key',
      ha1: digestHa1(publicKey, privateKey),
      roles: [{ roleName: 'ORG_OWNER', orgId: record.orgId }], createdAt: existing?.createdAt ?? now.toISOString(),
    };
    await tx.put(KIND.apiKey, { id: key.id, parentId: record.orgId, name: publicKey }, key);
    out.publicKey = publicKey;
    // Only a key this start made up is shown; one from the environment is the caller's already.
    if (!wantsKey) out.privateKey = privateKey;
    out.privateKeyFromEnvironment = Boolean(wantsKey);
    await updateBootstrapRecord(tx, { publicKey });
  }
  if (env.MONGODB_ATLAS_CLIENT_ID && env.MONGODB_ATLAS_CLIENT_SECRET) {
    const clientId = env.MONGODB_ATLAS_CLIENT_ID;
    if (!/^mdb_sa_id_[a-fA-F\d]{24}$/.test(clientId)) throw new Error('MONGODB_ATLAS_CLIENT_ID must look like mdb_sa_id_<24 hex>');
    await adoptServiceAccount(tx, record.orgId, clientId, env.MONGODB_ATLAS_CLIENT_SECRET, now);
    out.clientId = clientId;
    await updateBootstrapRecord(tx, { clientId });
  }
  return out;
}

async function updateBootstrapRecord(tx: StoreTx, patch: Partial<BootstrapResult>): Promise<void> {
  const current = await tx.get<BootstrapResult>(KIND.setting, SETTING_BOOTSTRAP);
  if (current) await tx.update(KIND.setting, SETTING_BOOTSTRAP, { ...current, ...patch });
}

async function adoptServiceAccount(tx: StoreTx, orgId: string, clientId: string, secret: string, now: Date): Promise<void> {
  const existing = await tx.get<ServiceAccount>(KIND.serviceAccount, clientId);
  // Another client id in the environment on a later start (a library start with a data
  // directory) adds a second owner account beside the first: names are unique per organization.
  const name = existing || !(await tx.getByName(KIND.serviceAccount, orgId, BOOTSTRAP_ACCOUNT)) ? BOOTSTRAP_ACCOUNT : `${BOOTSTRAP_ACCOUNT}-${clientId.slice(-8)}`;
  const account: ServiceAccount = existing ?? {
    clientId, orgId, name, description: 'Bootstrap organization owner service account',
    roles: ['ORG_OWNER'], projects: {}, createdAt: now.toISOString(),
  };
  if (!existing) await tx.insert(KIND.serviceAccount, { id: clientId, parentId: orgId, name: account.name }, account);
  const hash = hashSecret(secret);
  const { items } = await tx.list<ServiceAccountSecret>(KIND.serviceAccountSecret, clientId);
  if (items.some((s) => s.sha256 === hash)) return;
  const id = newObjectId();
  const expiresAt = new Date(now.getTime() + 365 * 24 * 3600 * 1000).toISOString();
  await tx.insert<ServiceAccountSecret>(KIND.serviceAccountSecret, { id, parentId: clientId }, {
    id, clientId, sha256: hash, maskedSecretValue: maskedSecret(secret), createdAt: now.toISOString(), expiresAt,
  });
}

