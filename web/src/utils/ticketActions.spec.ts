import { describe, expect, it } from 'vitest'
import { availableActions, mayWork } from './ticketActions'

const can = (permissions: string[]) => (permission: string) => permissions.includes(permission)
const agent = { id: 7, role: 'service_agent', can: can(['ticket.handle', 'ticket.create']) }
const manager = { id: 2, role: 'service_manager', can: can(['ticket.handle', 'ticket.assign']) }
const sales = { id: 9, role: 'sales', can: can(['ticket.create']) }

describe('ticket actions', () => {
  it('follow the status machine', () => {
    const ticket = { assigned_staff_id: 7, escalated: false }
    expect(availableActions({ ...ticket, status: 'open' }, agent)).toEqual(['start', 'cancel', 'escalate', 'edit'])
    expect(availableActions({ ...ticket, status: 'in_progress' }, agent)).toEqual(['resolve', 'cancel', 'escalate', 'edit'])
    expect(availableActions({ ...ticket, status: 'resolved' }, agent)).toEqual(['close', 'reopen'])
    expect(availableActions({ ...ticket, status: 'closed' }, agent)).toEqual([])
    expect(availableActions({ ...ticket, status: 'cancelled' }, manager)).toEqual([])
  })

  it('only managers assign, and an escalated ticket is not escalated again', () => {
    const ticket = { status: 'open' as const, assigned_staff_id: null, escalated: true }
    expect(availableActions(ticket, manager)).toEqual(['start', 'assign', 'cancel', 'edit'])
  })

  it('an agent works their own and unassigned tickets, not a colleague’s; sales only open them', () => {
    expect(mayWork({ assigned_staff_id: 7 }, agent)).toBe(true)
    expect(mayWork({ assigned_staff_id: null }, agent)).toBe(true)
    expect(mayWork({ assigned_staff_id: 8 }, agent)).toBe(false)
    expect(mayWork({ assigned_staff_id: 8 }, manager)).toBe(true)
    expect(availableActions({ status: 'open', assigned_staff_id: null, escalated: false }, sales)).toEqual([])
  })
})
