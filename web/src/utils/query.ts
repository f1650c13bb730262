// Reading and writing list filters in the URL query, shared by every list page: a filtered view
// can be bookmarked, shared and restored with the back button. Anything malformed in a URL is
// dropped rather than sent to the API.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'

export const PAGE_SIZES = [10, 20, 50, 100] as const
export const DEFAULT_PAGE_SIZE = 20

/** The page and page size every list carries in its URL (?page=2&size=50). */
export interface Paging {
  page: number
  pageSize: number
}

type QueryValue = LocationQuery[string] | undefined

/** The first non-blank value of a query parameter, trimmed. */
export function first(value: QueryValue): string | null {
  const item = Array.isArray(value) ? value[0] : value
  return typeof item === 'string' && item.trim() !== '' ? item.trim() : null
}

/** The allowed values named in a comma-separated (or repeated) parameter, in the allowed order. */
export function listOf<T extends string>(value: QueryValue, allowed: readonly T[]): T[] {
  const raw = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
  const items = raw.flatMap((v) => v.split(','))
  return allowed.filter((a) => items.includes(a))
}

export function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | null {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : null
}

/** A whole number from 1 up; anything else (0, signs, decimals, huge numbers) is null. */
export function positive(value: string | null): number | null {
  if (value === null || !/^\d{1,9}$/.test(value)) return null
  const n = Number(value)
  return n >= 1 ? n : null
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** A YYYY-MM-DD day, or null. */
export function day(value: string | null): string | null {
  return value !== null && DATE.test(value) ? value : null
}

/** The page and size from the URL; a size the pager does not offer falls back to the default. */
export function pagingFromQuery(
  query: LocationQuery,
  sizes: readonly number[] = PAGE_SIZES,
  defaultSize: number = DEFAULT_PAGE_SIZE,
): Paging {
  const size = positive(first(query.size))
  return {
    page: Math.min(positive(first(query.page)) ?? 1, 100_000),
    pageSize: size !== null && sizes.includes(size) ? size : defaultSize,
  }
}

/** Adds the page and size to a query, leaving out the defaults so a plain list has a plain URL. */
export function pagingToQuery(paging: Paging, query: LocationQueryRaw, defaultSize: number = DEFAULT_PAGE_SIZE): LocationQueryRaw {
  if (paging.page > 1) query.page = String(paging.page)
  if (paging.pageSize !== defaultSize) query.size = String(paging.pageSize)
  return query
}

/** "1000+" when the API counted only up to a limit (total_exact false). */
export function totalLabel(total: number, exact: boolean | undefined): string {
  return exact === false ? `${total.toLocaleString()}+` : total.toLocaleString()
}
