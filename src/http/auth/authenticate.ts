// Turns a request's Authorization header into a Principal: Digest for API keys, Bearer for
// service accounts. A missing or failed credential gets Atlas's Digest challenge.
import type { IncomingMessage } from 'node:http';
import { KIND, type AccessListEntry, type ApiKey, type ServiceAccount, type ServiceAccountSecret } from '../../domain/identity/model.js';
import type { Store, StoreTx } from '../../store/store.js';
import { ApiError } from '../errors.js';
import { principalOfApiKey, principalOfServiceAccount, type Principal } from '../principal.js';
import { checkNonce, DIGEST_REALM, digestUriMatches, NONCE_LIFETIME_MS, parseDigestAuthorization, verifyDigestResponse } from './digest.js';
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

/**
 * The principal of a bearer token whose lookups are cached for the current identities, at
 * once; undefined when authenticate must ask the store (or refuse). The token's signature and
 * expiry are checked on every call; only the lookups are cached.
 */
export function knownBearer(req: IncomingMessage, store: Store, signingKey: Buffer, clientIp: string, now: Date): Principal | undefined {
  const header = req.headers.authorization;
  if (!header || !BEARER.test(header)) return undefined;
  const token = header.slice(7).trim();
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

/** Digest answers cost a write (the nonce use); bearer tokens are checked on a read. */
export async function authenticate(req: IncomingMessage, store: Store, signingKey: Buffer, clientIp: string, now: Date): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header) throw new AuthenticationRequired();
  if (BEARER.test(header)) {
    const token = header.slice(7).trim();
    const known = knownBearer(req, store, signingKey, clientIp, now);
    if (known) return known;
    const { principal, accessEntry, generation } = await store.read(async (tx) => ({
      ...(await bearer(token, tx, signingKey, clientIp, now)), generation: store.identityGeneration(),
    }));
    // A use of an access list entry is counted, so such callers are never served from the cache.
    if (accessEntry) await store.transaction((tx) => recordAccessListUse(tx, KIND.serviceAccountAccess, accessEntry, clientIp, now));
    else rememberPrincipal<BearerIdentity>(store, token, generation, { clientIp, principal });
    return principal;
  }
  if (/^Digest\s/i.test(header)) return store.transaction((tx) => digest(header, req.method ?? 'GET', req.url ?? '/', tx, store, signingKey, clientIp, now));
  throw new AuthenticationRequired(false, 'unsupported authorization scheme');
}

/** An API key as Digest needs it; kept only for keys without an access list (whose every use is counted). */
interface DigestIdentity {
  ha1: ApiKey['ha1'];
  principal: Principal;
}

async function digest(header: string, method: string, requestTarget: string, tx: StoreTx, store: Store, signingKey: Buffer, clientIp: string, now: Date): Promise<Principal> {
  const credentials = parseDigestAuthorization(header);
  if (!credentials) throw new AuthenticationRequired(false, 'malformed digest credentials');
  // The realm is part of what the answer proves: one for another realm is not an answer to ours.
  if (credentials.realm !== DIGEST_REALM) throw new AuthenticationRequired(false, 'digest realm is not the challenge\'s');
  // The answer must be for this request, not one captured from another path (RFC 7616 §3.4.6).
  if (!digestUriMatches(credentials.uri, requestTarget)) throw new AuthenticationRequired(false, 'digest uri names another request');
  const nonce = checkNonce(signingKey, credentials.nonce, now.getTime());
  if (nonce !== 'valid') throw new AuthenticationRequired(nonce === 'stale', `${nonce} nonce`);
  // Read inside the transaction, before its writes: the generation the lookups below belong to.
  const generation = store.identityGeneration();
  const cacheKey = `digest ${credentials.username}`;
  const known = cachedPrincipal<DigestIdentity>(store, cacheKey);
  const key = known ? undefined : await tx.findByName<ApiKey>(KIND.apiKey, credentials.username);
  const identity = known ?? (key && { ha1: key.ha1, principal: principalOfApiKey(key) });
  const ha1 = identity && (credentials.algorithm === 'SHA-256' ? identity.ha1.sha256 : identity.ha1.md5);
  if (!identity || !ha1 || !verifyDigestResponse(credentials, method, ha1)) throw new AuthenticationRequired(false, 'wrong digest credentials');
  const fresh = await tx.insertOnce(KIND.digestNonceUse, `${credentials.nonce}:${credentials.nc.toLowerCase()}`, now.getTime() + NONCE_LIFETIME_MS, { seenByReads: false });
  if (!fresh) throw new AuthenticationRequired(false, 'replayed nonce count');
  if (key) {
    const accessEntry = await matchAccessList(tx, KIND.apiKeyAccess, key.id, clientIp);
    if (accessEntry) await recordAccessListUse(tx, KIND.apiKeyAccess, accessEntry, clientIp, now);
    else rememberPrincipal(store, cacheKey, generation, identity);
  }
  return identity.principal;
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
  const { items } = await tx.list<StoredAccessEntry>(kind, ownerId);
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
