import { describe, expect, it } from 'vitest'
import type { ServiceRecord } from '@/api/types'
import { kanbanColumns, kanbanStatuses } from './kanban'

const NOW = Date.parse('2026-12-02T04:00:00Z')
const at = (hours: number) => new Date(NOW + hours * 3_600_000).toISOString()

function ticket(id: number, values: Partial<ServiceRecord>): ServiceRecord {
  return {
    id,
    status: 'open',
    first_response_date: null,
    first_response_sla: 'ok',
    first_response_due: at(4),
    resolution_sla: 'ok',
    resolution_due: at(20),
    resolved_date: null,
    closed_date: null,
    updated_at: at(-1),
    ...values,
  } as ServiceRecord
}

describe('kanban', () => {
  it('puts each ticket in its status column and leaves cancelled ones off the board', () => {
    const columns = kanbanColumns(
      [
        ticket(1, {}),
        ticket(2, { status: 'in_progress', first_response_date: at(-2), first_response_sla: 'met' }),
        ticket(3, { status: 'resolved', resolved_date: at(-3), resolution_sla: 'met' }),
        ticket(4, { status: 'closed', closed_date: at(-1), resolution_sla: 'met' }),
        ticket(5, { status: 'cancelled', first_response_sla: null, resolution_sla: null }),
      ],
      NOW,
    )
    expect(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v.map((t) => t.id)]))).toEqual({
      open: [1],
      in_progress: [2],
      resolved: [3],
      closed: [4],
    })
  })

  it('sorts open work by urgency and finished work newest first', () => {
    const columns = kanbanColumns(
      [
        ticket(1, { first_response_due: at(6) }),
        ticket(2, { first_response_sla: 'breached', first_response_due: at(-1) }),
        ticket(3, { first_response_sla: 'at_risk', first_response_due: at(1) }),
        ticket(4, { status: 'resolved', resolved_date: at(-10) }),
        ticket(5, { status: 'resolved', resolved_date: at(-2) }),
      ],
      NOW,
    )
    expect(columns.open.map((t) => t.id)).toEqual([2, 3, 1])
    expect(columns.resolved.map((t) => t.id)).toEqual([5, 4])
  })

  it('asks for the filtered statuses that are columns, or all columns', () => {
    expect(kanbanStatuses([])).toEqual(['open', 'in_progress', 'resolved', 'closed'])
    expect(kanbanStatuses(['in_progress', 'cancelled'])).toEqual(['in_progress'])
    expect(kanbanStatuses(['cancelled'])).toEqual(['open', 'in_progress', 'resolved', 'closed'])
  })
})
