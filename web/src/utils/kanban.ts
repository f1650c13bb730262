// The ticket queue as a kanban: one column per status of the flow, most urgent on top.
import type { ServiceRecord, TicketStatus } from '@/api/types'
import { byUrgency } from './sla'

export const KANBAN_COLUMNS = ['open', 'in_progress', 'resolved', 'closed'] as const satisfies readonly TicketStatus[]
export type KanbanColumn = (typeof KANBAN_COLUMNS)[number]

/**
 * Tickets per column. Open and in-progress work by SLA urgency; resolved and closed ones by
 * when they were done, newest first. Cancelled tickets are no column (they are off the board).
 */
export function kanbanColumns(tickets: readonly ServiceRecord[], now: number): Record<KanbanColumn, ServiceRecord[]> {
  const columns: Record<KanbanColumn, ServiceRecord[]> = { open: [], in_progress: [], resolved: [], closed: [] }
  for (const ticket of tickets) {
    if ((KANBAN_COLUMNS as readonly string[]).includes(ticket.status)) columns[ticket.status as KanbanColumn].push(ticket)
  }
  const urgency = byUrgency(now)
  columns.open.sort(urgency)
  columns.in_progress.sort(urgency)
  const doneAt = (t: ServiceRecord) => Date.parse((t.status === 'closed' ? t.closed_date : t.resolved_date) ?? t.updated_at)
  columns.resolved.sort((a, b) => doneAt(b) - doneAt(a))
  columns.closed.sort((a, b) => doneAt(b) - doneAt(a))
  return columns
}

/** The statuses the board asks for: the filter's, limited to the board's columns (all of them when none). */
export function kanbanStatuses(filter: readonly TicketStatus[]): KanbanColumn[] {
  const wanted = KANBAN_COLUMNS.filter((c) => filter.length === 0 || filter.includes(c))
  return wanted.length ? wanted : [...KANBAN_COLUMNS]
}
