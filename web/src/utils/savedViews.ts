// Saved views of the customer list: the list's state (filters, sort, columns, page size) as the
// definition the API stores, and back; and which view to apply when the list is opened.
import type { LocationQuery } from 'vue-router'
import { CUSTOMER_TYPES, LEVELS, STATUSES, type CustomerSort, type SavedView, type ViewDefinition } from '@/api/types'
import { CUSTOMER_COLUMNS, type CustomerColumn } from './columns'
import {
  DEFAULT_PAGE_SIZE,
  PAGE_SIZES,
  SORTABLE,
  emptyFilters,
  filtersFromQuery,
  filtersToApi,
  filtersToQuery,
  type CustomerFilters,
} from './filters'

export const VIEW_NAME_MAX = 50

export interface ListState {
  filters: CustomerFilters
  columns: CustomerColumn[]
}

/** The definition to save for the list as it is now (page 1 is implied; "me" is the user's own id). */
export function definitionFromState(filters: CustomerFilters, columns: readonly string[], myId: number | null): ViewDefinition {
  const { page: _page, page_size: _size, sort: _sort, ...apiFilters } = filtersToApi(filters, myId)
  return {
    filters: apiFilters,
    sort: filters.sort,
    columns: CUSTOMER_COLUMNS.filter((c) => columns.includes(c)),
    page_size: filters.pageSize,
  }
}

function text(value: unknown, max: number): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : null
}

function listOf<T extends string>(value: unknown, allowed: readonly T[]): T[] {
  const items = Array.isArray(value) ? value : []
  return allowed.filter((a) => items.includes(a))
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | null {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : null
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const SORTS: readonly string[] = [...SORTABLE, ...SORTABLE.map((f) => `-${f}`), 'relevance']

/**
 * The list's state a view restores, on page 1. What the list cannot show (a filter it has no
 * control for, a page size it does not offer) is left out; a view without columns keeps `current`.
 */
export function stateFromDefinition(
  definition: ViewDefinition,
  myId: number | null,
  current: readonly CustomerColumn[],
): ListState {
  const saved = definition.filters ?? {}
  const filters = emptyFilters()
  filters.keyword = text(saved.keyword, 100) ?? ''
  filters.level = listOf(saved.level, LEVELS)
  filters.status = listOf(saved.status, STATUSES)
  filters.type = oneOf(saved.type, CUSTOMER_TYPES)
  filters.industry = text(saved.industry, 50)
  filters.province = text(saved.province, 20)
  filters.tag = text(saved.tag, 30)
  const owner = saved.assigned_sales_id
  if (typeof owner === 'number' && Number.isInteger(owner) && owner >= 1) filters.owner = owner === myId ? 'me' : owner
  const from = saved.acquired_from
  const to = saved.acquired_to
  filters.acquiredFrom = typeof from === 'string' && DATE.test(from) ? from : null
  filters.acquiredTo = typeof to === 'string' && DATE.test(to) ? to : null
  filters.sort = definition.sort && SORTS.includes(definition.sort) ? (definition.sort as CustomerSort) : null
  const size = definition.page_size ?? DEFAULT_PAGE_SIZE
  filters.pageSize = (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE
  const columns = definition.columns?.length ? CUSTOMER_COLUMNS.filter((c) => definition.columns?.includes(c)) : [...current]
  return { filters, columns }
}

/** True when the URL carries none of the list's filters, sort or paging: a plain opening. */
export function isPlainOpening(query: LocationQuery): boolean {
  return Object.keys(filtersToQuery(filtersFromQuery(query))).length === 0
}

/** The view to apply when the list opens: the default one, unless the URL already says what to show. */
export function viewToOpen(views: readonly SavedView[], query: LocationQuery): SavedView | null {
  if (!isPlainOpening(query)) return null
  return views.find((v) => v.is_default) ?? null
}

function comparable(definition: ViewDefinition, myId: number | null): string {
  const state = stateFromDefinition(definition, myId, [])
  return JSON.stringify(definitionFromState(state.filters, state.columns, myId))
}

/** The view the list shows right now, if one matches it exactly (its name goes on the button). */
export function matchingView(
  views: readonly SavedView[],
  filters: CustomerFilters,
  columns: readonly string[],
  myId: number | null,
): SavedView | null {
  const now = comparable(definitionFromState({ ...filters, page: 1 }, columns, myId), myId)
  return views.find((v) => comparable(v.definition, myId) === now) ?? null
}
