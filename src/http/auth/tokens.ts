// OAuth access tokens for service accounts: compact JWTs signed with HS256 by the key the
// store holds, so every API process can verify them. Revocation is checked in the store.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_LIFETIME_SECONDS = 3600;
/** How far in the future an issue time may lie (clocks of processes sharing a key differ a little). */
const CLOCK_SKEW_SECONDS = 60;

export interface TokenClaims {
  iss: string;
  sub: string;
  /** The secret the token was issued from: deleting it ends the token. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signToken(key: Buffer, claims: Omit<TokenClaims, 'jti' | 'iat' | 'exp'>, nowSeconds: number): { token: string; claims: TokenClaims } {
  const full: TokenClaims = { ...claims, jti: randomBytes(16).toString('hex'), iat: nowSeconds, exp: nowSeconds + TOKEN_LIFETIME_SECONDS };
  const payload = `${HEADER}.${b64url(JSON.stringify(full))}`;
  const signature = createHmac('sha256', key).update(payload).digest('base64url');
  return { token: `${payload}.${signature}`, claims: full };
}

/** Tokens already verified, so that a client's every call does not pay for HMAC and JSON again. */
const verified = new Map<string, { key: Buffer; claims: TokenClaims }>();
const MAX_REMEMBERED = 10_000;

/** The claims of a token this server signed and that has not expired; undefined otherwise. */
export function verifyToken(key: Buffer, token: string, nowSeconds: number): TokenClaims | undefined {
  const known = verified.get(token);
  if (known?.key === key) return known.claims.exp > nowSeconds ? known.claims : undefined;
  const claims = verifySignedToken(key, token, nowSeconds);
  if (claims) {
    if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value!);
    verified.set(token, { key, claims });
  }
  return claims;
}

function verifySignedToken(key: Buffer, token: string, nowSeconds: number): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return undefined;
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return undefined;
  // This server never issues a token for longer than TOKEN_LIFETIME_SECONDS: one that claims a
  // longer life (or was issued in the future) was not made by signToken, whoever holds the key.
  if (typeof claims.iat !== 'number' || claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) return undefined;
  if (claims.exp - claims.iat > TOKEN_LIFETIME_SECONDS) return undefined;
  return claims;
}
