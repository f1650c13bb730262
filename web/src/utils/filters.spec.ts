import { describe, expect, it } from 'vitest'
import {
  activeFilterCount,
  emptyFilters,
  filtersFromQuery,
  filtersToApi,
  filtersToQuery,
  sortFromTable,
  sortToTable,
  tagSuggestions,
  totalLabel,
} from './filters'

describe('filters ↔ URL query', () => {
  it('a plain list has a plain URL', () => {
    expect(filtersToQuery(emptyFilters())).toEqual({})
    expect(filtersFromQuery({})).toEqual(emptyFilters())
  })

  it('round-trips every filter', () => {
    const filters = {
      ...emptyFilters(),
      keyword: '华为',
      level: ['A' as const, 'B' as const],
      status: ['active' as const],
      type: 'enterprise' as const,
      industry: '制造业',
      province: '广东省',
      tag: '重点客户',
      owner: 'me' as const,
      acquiredFrom: '2026-01-01',
      acquiredTo: '2026-06-30',
      sort: '-acquisition_date' as const,
      page: 3,
      pageSize: 50,
    }
    const query = filtersToQuery(filters)
    expect(query).toEqual({
      q: '华为',
      level: 'A,B',
      status: 'active',
      type: 'enterprise',
      industry: '制造业',
      province: '广东省',
      tag: '重点客户',
      owner: 'me',
      from: '2026-01-01',
      to: '2026-06-30',
      sort: '-acquisition_date',
      page: '3',
      size: '50',
    })
    expect(filtersFromQuery(query as Record<string, string>)).toEqual(filters)
  })

  it('ignores what is malformed instead of sending it to the API', () => {
    const filters = filtersFromQuery({
      level: 'A,Z,b',
      status: ['blacklist', 'deleted'],
      type: 'robot',
      owner: '-5',
      from: '2026/01/01',
      sort: 'password',
      page: '0',
      size: '1000',
    })
    expect(filters.level).toEqual(['A'])
    expect(filters.status).toEqual(['blacklist'])
    expect(filters.type).toBeNull()
    expect(filters.owner).toBeNull()
    expect(filters.acquiredFrom).toBeNull()
    expect(filters.sort).toBeNull()
    expect(filters.page).toBe(1)
    expect(filters.pageSize).toBe(20)
  })

  it('keeps a user id as the owner, and trims the keyword', () => {
    const filters = filtersFromQuery({ owner: '14', q: '  张  ' })
    expect(filters.owner).toBe(14)
    expect(filters.keyword).toBe('张')
  })
})

describe('filtersToApi', () => {
  it('sends only what is set, with "me" as the user id', () => {
    const filters = { ...emptyFilters(), keyword: ' 科技 ', level: ['C' as const], owner: 'me' as const }
    expect(filtersToApi(filters, 7)).toEqual({ page: 1, page_size: 20, keyword: '科技', level: ['C'], assigned_sales_id: 7 })
  })
  it('sends no owner while the user is unknown', () => {
    expect(filtersToApi({ ...emptyFilters(), owner: 'me' }, null)).toEqual({ page: 1, page_size: 20 })
  })
})

describe('sorting', () => {
  it('maps el-table sort events to the API and back', () => {
    expect(sortFromTable('acquisition_date', 'descending')).toBe('-acquisition_date')
    expect(sortFromTable('customer_name', 'ascending')).toBe('customer_name')
    expect(sortFromTable('customer_name', null)).toBeNull()
    expect(sortFromTable('tags', 'ascending')).toBeNull()
    expect(sortToTable('-acquisition_date')).toEqual({ prop: 'acquisition_date', order: 'descending' })
    expect(sortToTable('relevance')).toBeUndefined()
  })
})

describe('labels', () => {
  it('counts the active filters besides the keyword', () => {
    expect(activeFilterCount({ ...emptyFilters(), keyword: 'x' })).toBe(0)
    expect(activeFilterCount({ ...emptyFilters(), level: ['A'], acquiredFrom: '2026-01-01', owner: 3 })).toBe(3)
  })
  it('shows a lower bound with a plus', () => {
    expect(totalLabel(1000, false)).toBe('1,000+')
    expect(totalLabel(12, true)).toBe('12')
    expect(totalLabel(12, undefined)).toBe('12')
  })
})

describe('tag suggestions', () => {
  it('offers the chosen tag first, then the loaded rows\' tags by how often they appear', () => {
    const rows = [{ tags: ['华东', '重点'] }, { tags: ['重点'] }, { tags: [] }, {}]
    expect(tagSuggestions(rows, null)).toEqual(['重点', '华东'])
    expect(tagSuggestions(rows, '华东')).toEqual(['华东', '重点'])
    expect(tagSuggestions(rows, '新标签')).toEqual(['新标签', '重点', '华东'])
  })
})
