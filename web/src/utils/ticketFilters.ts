// The ticket queue's filters live in the URL (?status=open,in_progress&sla=breached&view=kanban),
// like the customer list's: a queue can be bookmarked, shared and restored with the back button.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import {
  PRIORITIES,
  SERVICE_TYPES,
  TICKET_STATUSES,
  type Priority,
  type ServiceType,
  type SlaState,
  type TicketQuery,
  type TicketStatus,
} from '@/api/types'
import { DEFAULT_PAGE_SIZE, day, first, listOf, oneOf, pagingFromQuery, pagingToQuery, positive } from './query'

/** States a list can filter by: `met` is a finished clock, not a queue. */
export const SLA_FILTERS = ['ok', 'at_risk', 'breached'] as const satisfies readonly SlaState[]
export type SlaFilter = (typeof SLA_FILTERS)[number]
export type QueueView = 'table' | 'kanban'

export interface TicketFilters {
  status: TicketStatus[]
  priority: Priority[]
  type: ServiceType | null
  /** Assigned to the signed-in user ("me") or to a user id. */
  assignee: 'me' | number | null
  unassigned: boolean
  sla: SlaFilter | null
  escalated: boolean
  createdFrom: string | null
  createdTo: string | null
  view: QueueView
  page: number
  pageSize: number
}

export function emptyTicketFilters(): TicketFilters {
  return {
    status: [],
    priority: [],
    type: null,
    assignee: null,
    unassigned: false,
    sla: null,
    escalated: false,
    createdFrom: null,
    createdTo: null,
    view: 'table',
    page: 1,
    pageSize: DEFAULT_PAGE_SIZE,
  }
}

/** The URL's query → filters; anything malformed is dropped, not sent to the API. */
export function ticketFiltersFromQuery(query: LocationQuery): TicketFilters {
  const assignee = first(query.assignee)
  const unassigned = first(query.unassigned) === '1'
  return {
    status: listOf(query.status, TICKET_STATUSES),
    priority: listOf(query.priority, PRIORITIES),
    type: oneOf(first(query.type), SERVICE_TYPES),
    assignee: unassigned ? null : assignee === 'me' ? 'me' : positive(assignee),
    unassigned,
    sla: oneOf(first(query.sla), SLA_FILTERS),
    escalated: first(query.escalated) === '1',
    createdFrom: day(first(query.from)),
    createdTo: day(first(query.to)),
    view: first(query.view) === 'kanban' ? 'kanban' : 'table',
    ...pagingFromQuery(query),
  }
}

/** Filters → the URL's query, leaving out what is at its default. */
export function ticketFiltersToQuery(filters: TicketFilters): LocationQueryRaw {
  const query: Record<string, string> = {}
  if (filters.status.length) query.status = filters.status.join(',')
  if (filters.priority.length) query.priority = filters.priority.join(',')
  if (filters.type) query.type = filters.type
  if (filters.unassigned) query.unassigned = '1'
  else if (filters.assignee !== null) query.assignee = String(filters.assignee)
  if (filters.sla) query.sla = filters.sla
  if (filters.escalated) query.escalated = '1'
  if (filters.createdFrom) query.from = filters.createdFrom
  if (filters.createdTo) query.to = filters.createdTo
  if (filters.view !== 'table') query.view = filters.view
  return pagingToQuery(filters, query)
}

/** The day after YYYY-MM-DD (the API's `created_to` is exclusive; the picker's end day is not). */
export function nextDay(day: string): string {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000)
  return next.toISOString().slice(0, 10)
}

/** Filters → the API's query. Dates are local (the API reads them in the business time zone). */
export function ticketFiltersToApi(filters: TicketFilters, myId: number | null): TicketQuery {
  const query: TicketQuery = { page: filters.page, page_size: filters.pageSize }
  if (filters.status.length) query.status = filters.status
  if (filters.priority.length) query.priority = filters.priority
  if (filters.type) query.service_type = filters.type
  if (filters.unassigned) query.unassigned = true
  else if (filters.assignee !== null) {
    const id = filters.assignee === 'me' ? myId : filters.assignee
    if (id !== null) query.assigned_staff_id = id
  }
  if (filters.sla) query.sla_state = filters.sla
  if (filters.escalated) query.escalated = true
  if (filters.createdFrom) query.created_from = `${filters.createdFrom}T00:00:00`
  if (filters.createdTo) query.created_to = `${nextDay(filters.createdTo)}T00:00:00`
  return query
}

/** How many filters are set (the view, pages and sizes are not filters). */
export function activeTicketFilterCount(filters: TicketFilters): number {
  return [
    filters.status.length > 0,
    filters.priority.length > 0,
    filters.type !== null,
    filters.assignee !== null || filters.unassigned,
    filters.sla !== null,
    filters.escalated,
    filters.createdFrom !== null || filters.createdTo !== null,
  ].filter(Boolean).length
}
