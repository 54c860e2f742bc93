// Cutting a page out of an ordered result, the same way for every backend: the children of
// one parent are few, so the whole list is read and the total comes with it.
import type { ListResult, Page } from './store.js';

export function pageOf<T>(docs: readonly string[], page: Page | undefined): ListResult<T> {
  const offset = page?.offset ?? 0;
  const end = page === undefined || page.limit < 0 ? docs.length : offset + page.limit;
  return { items: docs.slice(offset, end).map((d) => JSON.parse(d) as T), total: docs.length };
}
