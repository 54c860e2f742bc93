// The OAuth 2.0 client-credentials endpoints for service accounts (docs/atlas-behaviour.md, "Authentication"):
// POST /api/oauth/token and POST /api/oauth/revoke, with Atlas's error bodies.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KIND, type ServiceAccount, type ServiceAccountSecret } from '../../domain/identity/model.js';
import type { StoreTx } from '../../store/store.js';
import { ApiError } from '../errors.js';
import type { Services } from '../context.js';
import { enforceAccessList } from './authenticate.js';
import { signToken, TOKEN_LIFETIME_SECONDS, verifyToken } from './tokens.js';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

interface OAuthFailure {
  status: number;
  error: string;
  description: string;
}

const INVALID_CREDENTIALS: OAuthFailure = { status: 400, error: 'invalid_request', description: 'The provided credentials are not valid.' };
const INVALID_GRANT: OAuthFailure = { status: 400, error: 'unsupported_grant_type', description: 'Invalid grant type.' };
const ACCESS_DENIED: OAuthFailure = { status: 403, error: 'access_denied', description: 'IP access list validation failed for the service account.' };

class OAuthError extends Error {
  constructor(readonly failure: OAuthFailure) {
    super(failure.error);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function decodeLenient(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Basic credentials; the Go SDK URL-encodes id and secret first, the MCP server does not. */
function basicCredentials(header: string | undefined): { clientId: string; secret: string } {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) throw new OAuthError(INVALID_CREDENTIALS);
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError(INVALID_CREDENTIALS);
  return { clientId: decodeLenient(decoded.slice(0, colon)), secret: decodeLenient(decoded.slice(colon + 1)) };
}

async function authenticateClient(tx: StoreTx, header: string | undefined, now: Date): Promise<{ account: ServiceAccount; secret: ServiceAccountSecret }> {
  const { clientId, secret } = basicCredentials(header);
  const account = await tx.get<ServiceAccount>(KIND.serviceAccount, clientId);
  if (!account) throw new OAuthError(INVALID_CREDENTIALS);
  const hash = Buffer.from(hashSecret(secret));
  const { items } = await tx.list<ServiceAccountSecret>(KIND.serviceAccountSecret, clientId);
  const match = items.find((s) => timingSafeEqual(Buffer.from(s.sha256), hash) && Date.parse(s.expiresAt) > now.getTime());
  if (!match) throw new OAuthError(INVALID_CREDENTIALS);
  return { account, secret: match };
}

export async function handleOAuth(path: string, req: IncomingMessage, res: ServerResponse, rawBody: string, clientIp: string, services: Services): Promise<void> {
  if (req.method !== 'POST' || (path !== '/api/oauth/token' && path !== '/api/oauth/revoke')) {
    throw new ApiError('RESOURCE_NOT_FOUND', [path]);
  }
  const form = new URLSearchParams(rawBody);
  const now = services.now();
  try {
    // The answer is sent after the commit: a networked store may run the transaction again.
    const answer = await services.store.transaction(async (tx): Promise<{ status: number; body?: unknown }> => {
      const { account, secret } = await authenticateClient(tx, req.headers.authorization, now);
      if (path === '/api/oauth/token') {
        if (form.get('grant_type') !== 'client_credentials') throw new OAuthError(INVALID_GRANT);
        try {
          await enforceAccessList(tx, KIND.serviceAccountAccess, account.clientId, clientIp, now);
        } catch (error) {
          if (error instanceof ApiError) throw new OAuthError(ACCESS_DENIED);
          throw error;
        }
        const { token } = signToken(services.signingKey, { iss: 'atlas-streams-emulator', sub: account.clientId, sid: secret.id }, Math.floor(now.getTime() / 1000));
        await tx.update(KIND.serviceAccountSecret, secret.id, { ...secret, lastUsedAt: now.toISOString() });
        return { status: 200, body: { access_token: token, expires_in: TOKEN_LIFETIME_SECONDS, token_type: 'Bearer' } };
      }
      const claims = verifyToken(services.signingKey, form.get('token') ?? '', Math.floor(now.getTime() / 1000));
      // RFC 7009: an unknown, foreign or expired token (nothing left to revoke) is answered 200 too, and nothing happens.
      if (claims && claims.sub === account.clientId) await tx.insertOnce(KIND.revokedToken, claims.jti, claims.exp * 1000);
      return { status: 200 };
    });
    send(res, answer.status, answer.body);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    services.log.info({ path, reason: error.failure.error }, 'oauth request refused');
    send(res, error.failure.status, { error: error.failure.error, error_description: error.failure.description });
  }
}
