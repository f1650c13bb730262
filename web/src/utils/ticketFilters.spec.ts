import { describe, expect, it } from 'vitest'
import {
  activeTicketFilterCount,
  emptyTicketFilters,
  nextDay,
  ticketFiltersFromQuery,
  ticketFiltersToApi,
  ticketFiltersToQuery,
  type TicketFilters,
} from './ticketFilters'

describe('ticket queue filters ↔ URL', () => {
  it('a plain queue has a plain URL', () => {
    expect(ticketFiltersToQuery(emptyTicketFilters())).toEqual({})
    expect(ticketFiltersFromQuery({})).toEqual(emptyTicketFilters())
  })

  it('round-trips every filter', () => {
    const filters: TicketFilters = {
      status: ['open', 'in_progress'],
      priority: ['urgent'],
      type: 'complaint',
      assignee: 'me',
      unassigned: false,
      sla: 'breached',
      escalated: true,
      createdFrom: '2026-11-01',
      createdTo: '2026-11-30',
      view: 'kanban',
      page: 2,
      pageSize: 50,
    }
    const query = ticketFiltersToQuery(filters)
    expect(query).toEqual({
      status: 'open,in_progress',
      priority: 'urgent',
      type: 'complaint',
      assignee: 'me',
      sla: 'breached',
      escalated: '1',
      from: '2026-11-01',
      to: '2026-11-30',
      view: 'kanban',
      page: '2',
      size: '50',
    })
    expect(ticketFiltersFromQuery(query as Record<string, string>)).toEqual(filters)
  })

  it('drops what is malformed instead of sending it', () => {
    const filters = ticketFiltersFromQuery({
      status: 'open,deleted',
      priority: 'critical',
      type: 'robot',
      assignee: '-3',
      sla: 'met',
      from: '2026/11/01',
      view: 'grid',
      size: '7',
      page: '0',
    })
    expect(filters).toEqual({ ...emptyTicketFilters(), status: ['open'] })
  })

  it('unassigned wins over an assignee', () => {
    const filters = ticketFiltersFromQuery({ unassigned: '1', assignee: '12' })
    expect(filters.unassigned).toBe(true)
    expect(filters.assignee).toBeNull()
    expect(ticketFiltersToQuery({ ...filters, assignee: 12 })).toEqual({ unassigned: '1' })
  })
})

describe('ticket queue filters → API', () => {
  it('sends the API its names, me as my id, and an end date that includes its day', () => {
    const filters = ticketFiltersFromQuery({
      status: 'open',
      assignee: 'me',
      sla: 'at_risk',
      from: '2026-11-01',
      to: '2026-11-30',
      type: 'after_sales',
    })
    expect(ticketFiltersToApi(filters, 21)).toEqual({
      status: ['open'],
      assigned_staff_id: 21,
      sla_state: 'at_risk',
      service_type: 'after_sales',
      created_from: '2026-11-01T00:00:00',
      created_to: '2026-12-01T00:00:00',
      page: 1,
      page_size: 20,
    })
  })

  it('asks for unassigned tickets without an assignee', () => {
    expect(ticketFiltersToApi({ ...emptyTicketFilters(), unassigned: true }, 21)).toEqual({
      unassigned: true,
      page: 1,
      page_size: 20,
    })
  })

  it('counts the filters that are set', () => {
    expect(activeTicketFilterCount(emptyTicketFilters())).toBe(0)
    expect(activeTicketFilterCount({ ...emptyTicketFilters(), unassigned: true, createdFrom: '2026-11-01', view: 'kanban' })).toBe(2)
  })

  it('knows the day after, across months and years', () => {
    expect(nextDay('2026-11-30')).toBe('2026-12-01')
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
  })
})
