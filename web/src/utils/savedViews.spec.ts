import { describe, expect, it } from 'vitest'
import type { SavedView, ViewDefinition } from '@/api/types'
import { DEFAULT_COLUMNS } from './columns'
import { emptyFilters, type CustomerFilters } from './filters'
import { definitionFromState, isPlainOpening, matchingView, stateFromDefinition, viewToOpen } from './savedViews'

const ME = 7

function view(id: number, definition: ViewDefinition, isDefault = false): SavedView {
  return {
    id,
    page: 'customers',
    name: `视图${id}`,
    definition,
    is_default: isDefault,
    version: 1,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
  }
}

function filtered(changes: Partial<CustomerFilters>): CustomerFilters {
  return { ...emptyFilters(), ...changes }
}

describe('the list state as a saved definition', () => {
  it('keeps the API filters, sort, columns in table order and page size, not the page', () => {
    const filters = filtered({
      keyword: ' 华为 ',
      level: ['A'],
      tag: '重点客户',
      owner: 'me',
      sort: '-annual_revenue',
      page: 4,
      pageSize: 50,
    })
    expect(definitionFromState(filters, ['tags', 'customer_code', 'nonsense'], ME)).toEqual({
      filters: { keyword: '华为', level: ['A'], tag: '重点客户', assigned_sales_id: ME },
      sort: '-annual_revenue',
      columns: ['customer_code', 'tags'],
      page_size: 50,
    })
  })

  it('a plain list saves no filters', () => {
    expect(definitionFromState(emptyFilters(), [], ME)).toEqual({ filters: {}, sort: null, columns: [], page_size: 20 })
  })
})

describe('a saved definition as the list state', () => {
  it('round-trips, on page 1, with the own id read back as "me"', () => {
    const filters = filtered({
      level: ['A', 'B'],
      status: ['active'],
      type: 'enterprise',
      industry: '制造业',
      province: '广东省',
      tag: 'VIP',
      owner: 'me',
      acquiredFrom: '2026-01-01',
      acquiredTo: '2026-06-30',
      sort: 'customer_name',
      pageSize: 100,
      page: 3,
    })
    const state = stateFromDefinition(definitionFromState(filters, ['industry'], ME), ME, DEFAULT_COLUMNS)
    expect(state.filters).toEqual({ ...filters, page: 1 })
    expect(state.columns).toEqual(['industry'])
  })

  it("another user's id stays a number", () => {
    const state = stateFromDefinition({ filters: { assigned_sales_id: 12 } }, ME, [])
    expect(state.filters.owner).toBe(12)
  })

  it('ignores what the list cannot show instead of sending it', () => {
    const state = stateFromDefinition(
      {
        filters: { level: ['A', 'Z'], status: 'active', type: 'robot', acquired_from: '2026/01/01', region: '华东' },
        sort: 'password',
        columns: ['tags', 'salary'],
        page_size: 33,
      },
      ME,
      DEFAULT_COLUMNS,
    )
    expect(state.filters).toEqual(filtered({ level: ['A'] }))
    expect(state.columns).toEqual(['tags'])
  })

  it('a view without columns keeps the columns shown now', () => {
    expect(stateFromDefinition({ filters: {} }, ME, ['owner']).columns).toEqual(['owner'])
  })
})

describe('the view applied when the list opens', () => {
  const views = [view(1, { filters: { level: ['B'] } }), view(2, { filters: { tag: '重点' } }, true)]

  it('is the default one when the URL carries no filter', () => {
    expect(viewToOpen(views, {})?.id).toBe(2)
    expect(viewToOpen(views, { utm: 'mail' })?.id).toBe(2) // not a parameter of the list
  })

  it('is none when the URL says what to show, or without a default', () => {
    expect(isPlainOpening({ level: 'A' })).toBe(false)
    expect(viewToOpen(views, { level: 'A' })).toBeNull()
    expect(viewToOpen(views, { page: '2' })).toBeNull()
    expect(viewToOpen(views.slice(0, 1), {})).toBeNull()
  })
})

describe('the view the list shows now', () => {
  const views = [
    view(1, { filters: { level: ['A'], tag: '重点' }, sort: null, columns: ['tags'], page_size: 20 }),
    view(2, { filters: { assigned_sales_id: ME }, columns: [] }),
  ]

  it('matches on filters, sort, columns and page size, whatever the page', () => {
    const filters = filtered({ level: ['A'], tag: '重点', page: 5 })
    expect(matchingView(views, filters, ['tags'], ME)?.id).toBe(1)
    expect(matchingView(views, filters, ['tags', 'owner'], ME)).toBeNull()
    expect(matchingView(views, { ...filters, pageSize: 50 }, ['tags'], ME)).toBeNull()
  })

  it('reads the saved owner id as "me"', () => {
    expect(matchingView(views, filtered({ owner: 'me' }), [], ME)?.id).toBe(2)
  })
})
