// Self links as Atlas renders them on identity entities: absolute, on the caller's own host.
import type { RequestContext } from '../../http/context.js';
import type { Link } from '../../http/pagination.js';

export const API_PREFIX = '/api/atlas/v2';

/** `[{href, rel: 'self'}]` for an API path below /api/atlas/v2 (segments already encoded). */
export function selfLinks(ctx: RequestContext, path: string): Link[] {
  return [{ href: `${ctx.url.origin}${API_PREFIX}${path}`, rel: 'self' }];
}
