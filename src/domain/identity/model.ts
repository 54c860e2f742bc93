// Stored shapes of the identity entities, and the store kinds that hold them.
// Secrets are kept only as Digest HA1 values (API keys), SHA-256 hashes (service accounts)
// and SCRAM stored keys (database users).
import type { ScramCredentials } from '../../crypto/scram.js';

export const KIND = {
  org: 'org',
  project: 'project',
  apiKey: 'apiKey',
  apiKeyAccess: 'apiKeyAccess',
  serviceAccount: 'serviceAccount',
  serviceAccountSecret: 'serviceAccountSecret',
  serviceAccountAccess: 'serviceAccountAccess',
  revokedToken: 'revokedToken',
  digestNonceUse: 'digestNonceUse',
  setting: 'setting',
  databaseUser: 'databaseUser',
} as const;

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
}

export interface Project {
  id: string;
  name: string;
  orgId: string;
  created: string;
  withDefaultAlertsSettings: boolean;
  tags: Array<{ key: string; value: string }>;
}

export interface RoleAssignment {
  roleName: string;
  orgId?: string;
  groupId?: string;
}

export interface ApiKey {
  id: string;
  orgId: string;
  publicKey: string;
  desc: string;
  /**
   * HA1 = H(publicKey:realm:privateKey) per Digest algorithm: verifies without the key itself,
   * but answers Digest challenges as well as the key does (password-equivalent; see
   * docs/security.md). No part of the private key itself is stored.
   */
  ha1: { md5: string; sha256: string };
  roles: RoleAssignment[];
  createdAt: string;
}

export interface AccessListEntry {
  /** The store id (authenticate.ts counts use by it). */
  id?: string;
  /** Either an address or a CIDR block, as entered. */
  ipAddress?: string;
  cidrBlock?: string;
  created: string;
  lastUsed?: string;
  lastUsedAddress?: string;
  count: number;
}

export interface ServiceAccount {
  clientId: string;
  orgId: string;
  name: string;
  description: string;
  roles: string[];
  /** Project roles by project id. */
  projects: Record<string, string[]>;
  createdAt: string;
}

export interface ServiceAccountSecret {
  id: string;
  clientId: string;
  sha256: string;
  maskedSecretValue: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
}

export interface DatabaseUserRole {
  roleName: string;
  databaseName: string;
  collectionName?: string;
}

/** A project's database user (SCRAM only): who may log in to the stream workspaces' wire endpoints. */
export interface DatabaseUser {
  id: string;
  groupId: string;
  username: string;
  /** Always "admin": SCRAM users authenticate against admin. */
  databaseName: string;
  roles: DatabaseUserRole[];
  /** Empty: every workspace of the project; otherwise only the STREAM (and CLUSTER...) names listed. */
  scopes: Array<{ name: string; type: string }>;
  labels: Array<{ key: string; value: string }>;
  description?: string;
  deleteAfterDate?: string;
  /** Salted, iterated SCRAM-SHA-1 and SCRAM-SHA-256 keys; the password itself is never stored. */
  credentials: ScramCredentials;
  createdAt: string;
}
