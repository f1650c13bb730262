// The customer list's filters live in the URL (?q=华为&level=A,B&page=2), so a filtered view
// can be bookmarked, shared and restored with the back button.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import { DEFAULT_PAGE_SIZE, day, first, listOf, oneOf, pagingFromQuery, pagingToQuery, positive } from './query'
import {
  CUSTOMER_TYPES,
  LEVELS,
  STATUSES,
  type CustomerLevel,
  type CustomerQuery,
  type CustomerSort,
  type CustomerStatus,
  type CustomerType,
} from '@/api/types'

export { DEFAULT_PAGE_SIZE, PAGE_SIZES, totalLabel } from './query'

export const SORTABLE = [
  'customer_name',
  'customer_code',
  'customer_level',
  'acquisition_date',
  'last_contact_date',
  'annual_revenue',
  'created_at',
  'updated_at',
] as const
export type SortableField = (typeof SORTABLE)[number]

export interface CustomerFilters {
  keyword: string
  level: CustomerLevel[]
  status: CustomerStatus[]
  type: CustomerType | null
  industry: string | null
  province: string | null
  /** One customer tag (the API's `tag`: customers carrying it). */
  tag: string | null
  /** The sales owner: the signed-in user ("me") or a user id. */
  owner: 'me' | number | null
  acquiredFrom: string | null
  acquiredTo: string | null
  sort: CustomerSort | null
  page: number
  pageSize: number
}

export function emptyFilters(): CustomerFilters {
  return {
    keyword: '',
    level: [],
    status: [],
    type: null,
    industry: null,
    province: null,
    tag: null,
    owner: null,
    acquiredFrom: null,
    acquiredTo: null,
    sort: null,
    page: 1,
    pageSize: DEFAULT_PAGE_SIZE,
  }
}

const SORTS: readonly string[] = [...SORTABLE, ...SORTABLE.map((f) => `-${f}`), 'relevance']

/** Filters from the URL; anything malformed is ignored rather than sent to the API. */
export function filtersFromQuery(query: LocationQuery): CustomerFilters {
  const filters = emptyFilters()
  filters.keyword = first(query.q)?.slice(0, 100) ?? ''
  filters.level = listOf(query.level, LEVELS)
  filters.status = listOf(query.status, STATUSES)
  filters.type = oneOf(first(query.type), CUSTOMER_TYPES)
  filters.industry = first(query.industry)?.slice(0, 50) ?? null
  filters.province = first(query.province)?.slice(0, 20) ?? null
  filters.tag = first(query.tag)?.slice(0, 30) ?? null
  const owner = first(query.owner)
  filters.owner = owner === 'me' ? 'me' : positive(owner)
  filters.acquiredFrom = day(first(query.from))
  filters.acquiredTo = day(first(query.to))
  const sort = first(query.sort)
  filters.sort = sort !== null && SORTS.includes(sort) ? (sort as CustomerSort) : null
  return { ...filters, ...pagingFromQuery(query) }
}

/** The URL query for these filters; defaults are left out so a plain list has a plain URL. */
export function filtersToQuery(filters: CustomerFilters): LocationQueryRaw {
  const query: LocationQueryRaw = {}
  if (filters.keyword.trim()) query.q = filters.keyword.trim()
  if (filters.level.length) query.level = filters.level.join(',')
  if (filters.status.length) query.status = filters.status.join(',')
  if (filters.type) query.type = filters.type
  if (filters.industry) query.industry = filters.industry
  if (filters.province) query.province = filters.province
  if (filters.tag) query.tag = filters.tag
  if (filters.owner !== null) query.owner = String(filters.owner)
  if (filters.acquiredFrom) query.from = filters.acquiredFrom
  if (filters.acquiredTo) query.to = filters.acquiredTo
  if (filters.sort) query.sort = filters.sort
  return pagingToQuery(filters, query)
}

/** The API's query parameters (shared by list, search and export). */
export function filtersToApi(filters: CustomerFilters, myId: number | null): CustomerQuery {
  const query: CustomerQuery = { page: filters.page, page_size: filters.pageSize }
  const keyword = filters.keyword.trim()
  if (keyword) query.keyword = keyword
  if (filters.level.length) query.level = [...filters.level]
  if (filters.status.length) query.status = [...filters.status]
  if (filters.type) query.type = filters.type
  if (filters.industry) query.industry = filters.industry
  if (filters.province) query.province = filters.province
  if (filters.tag) query.tag = filters.tag
  const owner = filters.owner === 'me' ? myId : filters.owner
  if (owner !== null) query.assigned_sales_id = owner
  if (filters.acquiredFrom) query.acquired_from = filters.acquiredFrom
  if (filters.acquiredTo) query.acquired_to = filters.acquiredTo
  if (filters.sort) query.sort = filters.sort
  return query
}

/** How many filters besides the keyword are set (shown on the filter button). */
export function activeFilterCount(filters: CustomerFilters): number {
  return [
    filters.level.length > 0,
    filters.status.length > 0,
    filters.type !== null,
    filters.industry !== null,
    filters.province !== null,
    filters.tag !== null,
    filters.owner !== null,
    filters.acquiredFrom !== null || filters.acquiredTo !== null,
  ].filter(Boolean).length
}

/** Tags to offer in the tag filter: the one chosen, then those on the loaded rows (most common first). */
export function tagSuggestions(rows: readonly { tags?: readonly string[] }[], current: string | null): string[] {
  const counts = new Map<string, number>()
  for (const row of rows) for (const tag of row.tags ?? []) counts.set(tag, (counts.get(tag) ?? 0) + 1)
  const seen = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'zh-CN')).map(([tag]) => tag)
  return current ? [current, ...seen.filter((tag) => tag !== current)] : seen
}

/** el-table's sort-change event → the API's sort parameter. */
export function sortFromTable(prop: string | null | undefined, order: string | null | undefined): CustomerSort | null {
  if (!prop || !order || !(SORTABLE as readonly string[]).includes(prop)) return null
  return (order === 'descending' ? `-${prop}` : prop) as CustomerSort
}

/** The API's sort parameter → el-table's default-sort. */
export function sortToTable(
  sort: CustomerSort | null,
): { prop: SortableField; order: 'ascending' | 'descending' } | undefined {
  if (!sort || sort === 'relevance') return undefined
  const descending = sort.startsWith('-')
  return { prop: sort.replace(/^-/, '') as SortableField, order: descending ? 'descending' : 'ascending' }
}
