// Turns a request's Authorization header into a Principal: Digest for API keys, Bearer for
// service accounts. A missing or failed credential gets Atlas's Digest challenge.
import type { IncomingMessage } from 'node:http';
import { KIND, type AccessListEntry, type ApiKey, type ServiceAccount, type ServiceAccountSecret } from '../../domain/identity/model.js';
import type { StoreTx } from '../../store/store.js';
import type { Services } from '../context.js';
import { ApiError } from '../errors.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import { principalOfApiKey, principalOfServiceAccount, type Principal } from '../principal.js';
import { DIGEST_REALM, type DigestCredentials, digestUriMatches, parseDigestAuthorization, verifyDigestResponse } from './digest.js';
import { checkNonce, NONCE_LIFETIME_MS } from './digest-nonce.js';
import { isOnAccessList } from './access-list.js';
import { cachedPrincipal, rememberPrincipal } from './principal-cache.js';
import { verifyToken } from './tokens.js';

/** No usable credentials: the caller gets the challenge (stale when only the nonce aged). */
export class AuthenticationRequired extends Error {
  constructor(readonly stale = false, readonly reason = 'no credentials') {
    super(reason);
  }
}

const BEARER = /^Bearer\s/i;
const DIGEST = /^Digest\s/i;

/** What authenticating a caller uses. */
export type AuthServices = Pick<Services, 'store' | 'signingKey' | 'nonceUses'>;

/**
 * The caller's principal, or AuthenticationRequired (thrown, or the promise's rejection).
 * At once, without a promise to make and await, when nothing needs the store: a bearer token
 * or an API key whose lookups are cached, with a Digest nonce's use recorded in memory.
 */
export function authenticate(req: IncomingMessage, services: AuthServices, clientIp: string, now: Date): MaybePromise<Principal> {
  const header = req.headers.authorization;
  if (!header) throw new AuthenticationRequired();
  if (BEARER.test(header)) {
    const token = header.slice(7).trim();
    return knownBearer(token, services, clientIp, now) ?? bearerFromStore(token, services, clientIp, now);
  }
  if (DIGEST.test(header)) return digest(header, req.method ?? 'GET', req.url ?? '/', services, clientIp, now);
  throw new AuthenticationRequired(false, 'unsupported authorization scheme');
}

/**
 * The principal of a bearer token whose lookups are cached for the current identities;
 * undefined when the store must be asked (or the token refused). The token's signature and
 * expiry are checked on every call; only the lookups are cached.
 */
function knownBearer(token: string, { store, signingKey }: AuthServices, clientIp: string, now: Date): Principal | undefined {
  if (!verifyToken(signingKey, token, Math.floor(now.getTime() / 1000))) return undefined;
  const known = cachedPrincipal<BearerIdentity>(store, token);
  return known?.clientIp === clientIp ? known.principal : undefined;
}

/**
 * A token's principal for calls from one address. Cached under the token itself (a JWT has no
 * space, so it is never a "digest ..." key): the same string verifyToken just looked up, whose
 * hash V8 keeps, where a key made of it would be a new 400-character string to hash at every call.
 */
interface BearerIdentity {
  clientIp: string;
  principal: Principal;
}

async function bearerFromStore(token: string, { store, signingKey }: AuthServices, clientIp: string, now: Date): Promise<Principal> {
  const { principal, accessEntry, generation } = await store.read(async (tx) => ({
    ...(await bearer(token, tx, signingKey, clientIp, now)), generation: store.identityGeneration(),
  }));
  // A use of an access list entry is counted, so such callers are never served from the cache.
  if (accessEntry) await store.transaction((tx) => recordAccessListUse(tx, KIND.serviceAccountAccess, accessEntry, clientIp, now));
  else rememberPrincipal<BearerIdentity>(store, token, generation, { clientIp, principal });
  return principal;
}

/** An API key as Digest needs it; kept only for keys without an access list (whose every use is counted). */
interface DigestIdentity {
  ha1: ApiKey['ha1'];
  principal: Principal;
}

function digest(header: string, method: string, requestTarget: string, services: AuthServices, clientIp: string, now: Date): MaybePromise<Principal> {
  const credentials = parseDigestAuthorization(header);
  if (!credentials) throw new AuthenticationRequired(false, 'malformed digest credentials');
  // The realm is part of what the answer proves: one for another realm is not an answer to ours.
  if (credentials.realm !== DIGEST_REALM) throw new AuthenticationRequired(false, 'digest realm is not the challenge\'s');
  // The answer must be for this request, not one captured from another path (RFC 7616 §3.4.6).
  if (!digestUriMatches(credentials.uri, requestTarget)) throw new AuthenticationRequired(false, 'digest uri names another request');
  const nonce = checkNonce(services.signingKey, credentials.nonce, now.getTime(), services.nonceUses.completeSinceMs);
  if (nonce !== 'valid') throw new AuthenticationRequired(nonce === 'stale', `${nonce} nonce`);
  const known = cachedPrincipal<DigestIdentity>(services.store, `digest ${credentials.username}`);
  return known ? usedOnce(credentials, method, known, services, now) : digestFromStore(credentials, method, services, clientIp, now);
}

async function digestFromStore(credentials: DigestCredentials, method: string, services: AuthServices, clientIp: string, now: Date): Promise<Principal> {
  const { store } = services;
  const { key, accessList, generation } = await store.read(async (tx) => {
    const key = await tx.findByName<ApiKey>(KIND.apiKey, credentials.username);
    return { key, accessList: key && (await tx.list<StoredAccessEntry>(KIND.apiKeyAccess, key.id)).items, generation: store.identityGeneration() };
  });
  if (!key || !accessList) throw new AuthenticationRequired(false, 'wrong digest credentials');
  const identity: DigestIdentity = { ha1: key.ha1, principal: principalOfApiKey(key) };
  await usedOnce(credentials, method, identity, services, now);
  const accessEntry = admittingEntry(accessList, clientIp);
  if (accessEntry) await store.transaction((tx) => recordAccessListUse(tx, KIND.apiKeyAccess, accessEntry, clientIp, now));
  else rememberPrincipal(store, `digest ${credentials.username}`, generation, identity);
  return identity.principal;
}

/** The identity's principal once the answer is checked against its HA1 and its nonce count is used for the first time. */
function usedOnce(credentials: DigestCredentials, method: string, identity: DigestIdentity, { nonceUses }: AuthServices, now: Date): MaybePromise<Principal> {
  const ha1 = credentials.algorithm === 'SHA-256' ? identity.ha1.sha256 : identity.ha1.md5;
  if (!ha1 || !verifyDigestResponse(credentials, method, ha1)) throw new AuthenticationRequired(false, 'wrong digest credentials');
  const nowMs = now.getTime();
  const fresh = nonceUses.firstUse(`${credentials.nonce}:${credentials.nc.toLowerCase()}`, nowMs + NONCE_LIFETIME_MS, nowMs);
  return andThen(fresh, (first) => {
    if (!first) throw new AuthenticationRequired(false, 'replayed nonce count');
    return identity.principal;
  });
}

async function bearer(token: string, tx: StoreTx, signingKey: Buffer, clientIp: string, now: Date): Promise<{ principal: Principal; accessEntry?: StoredAccessEntry }> {
  const claims = verifyToken(signingKey, token, Math.floor(now.getTime() / 1000));
  if (!claims) throw new AuthenticationRequired(false, 'invalid or expired token');
  const [account, secret, revoked] = await Promise.all([
    tx.get<ServiceAccount>(KIND.serviceAccount, claims.sub),
    tx.get<ServiceAccountSecret>(KIND.serviceAccountSecret, claims.sid),
    tx.get(KIND.revokedToken, claims.jti),
  ]);
  if (!account || !secret || revoked) throw new AuthenticationRequired(false, 'revoked token');
  const accessEntry = await matchAccessList(tx, KIND.serviceAccountAccess, account.clientId, clientIp);
  return { principal: principalOfServiceAccount(account), accessEntry };
}

type StoredAccessEntry = AccessListEntry & { id: string };

/**
 * An empty access list lets every address in (undefined); otherwise the entry that admits the
 * caller's address, or 403 IP_ADDRESS_NOT_ON_ACCESS_LIST.
 */
async function matchAccessList(tx: StoreTx, kind: string, ownerId: string, clientIp: string): Promise<StoredAccessEntry | undefined> {
  return admittingEntry((await tx.list<StoredAccessEntry>(kind, ownerId)).items, clientIp);
}

function admittingEntry(items: StoredAccessEntry[], clientIp: string): StoredAccessEntry | undefined {
  if (items.length === 0) return undefined;
  const entry = items.find((e) => isOnAccessList(clientIp, e));
  if (!entry) throw new ApiError('IP_ADDRESS_NOT_ON_ACCESS_LIST', [clientIp]);
  return entry;
}

async function recordAccessListUse(tx: StoreTx, kind: string, entry: StoredAccessEntry, clientIp: string, now: Date): Promise<void> {
  const current = await tx.get<StoredAccessEntry>(kind, entry.id);
  if (current) await tx.update(kind, entry.id, { ...current, lastUsed: now.toISOString(), lastUsedAddress: clientIp, count: current.count + 1 });
}

/** Checks the caller's address against an access list and counts the use, in one transaction. */
export async function enforceAccessList(tx: StoreTx, kind: string, ownerId: string, clientIp: string, now: Date): Promise<void> {
  const entry = await matchAccessList(tx, kind, ownerId, clientIp);
  if (entry) await recordAccessListUse(tx, kind, entry, clientIp, now);
}
