// Lists as Atlas pages them (docs/atlas-behaviour.md, "Lists"): itemsPerPage, pageNum, includeCount and
// absolute self/next/previous links.
import type { ListResult, Page } from '../store/store.js';
import type { RequestContext } from './context.js';

export interface Link {
  href: string;
  rel: string;
}

export interface PagedList<T> {
  links: Link[];
  results: T[];
  totalCount?: number;
}

export function pageOf(ctx: RequestContext): Page {
  const itemsPerPage = Number(ctx.query['itemsPerPage'] ?? 100);
  const pageNum = Number(ctx.query['pageNum'] ?? 1);
  return { offset: (pageNum - 1) * itemsPerPage, limit: itemsPerPage };
}

function linkTo(ctx: RequestContext, pageNum: number, itemsPerPage: number, rel: string): Link {
  const url = new URL(ctx.url.href);
  url.searchParams.set('pageNum', String(pageNum));
  url.searchParams.set('itemsPerPage', String(itemsPerPage));
  return { href: url.href, rel };
}

/** Wraps one page of results. `list` holds only the page's items and the total. */
export function pagedList<T, R>(ctx: RequestContext, list: ListResult<T>, render: (item: T) => R): PagedList<R> {
  const { offset, limit } = pageOf(ctx);
  const pageNum = offset / limit + 1;
  const links = [linkTo(ctx, pageNum, limit, 'self')];
  if (offset + list.items.length < list.total) links.push(linkTo(ctx, pageNum + 1, limit, 'next'));
  if (pageNum > 1) links.push(linkTo(ctx, pageNum - 1, limit, 'previous'));
  const result: PagedList<R> = { links, results: list.items.map(render) };
  if (ctx.query['includeCount'] !== false) result.totalCount = list.total;
  return result;
}

/** Pages an in-memory array (lists filtered or assembled by the domain). */
export function pageArray<T>(ctx: RequestContext, items: T[]): ListResult<T> {
  const { offset, limit } = pageOf(ctx);
  return { items: items.slice(offset, offset + limit), total: items.length };
}
