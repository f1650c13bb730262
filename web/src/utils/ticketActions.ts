// Which ticket actions to offer: the API's status machine and who may work a ticket
// (crm.service_desk.states and service._handle), so buttons the server would refuse are not shown.
import type { ServiceRecord, TicketStatus } from '@/api/types'

export type TicketAction = 'start' | 'assign' | 'resolve' | 'close' | 'reopen' | 'cancel' | 'escalate' | 'edit'
/** The actions that ask for something (an assignee, the resolution, a reason) in a dialog. */
export type DialogAction = 'assign' | 'resolve' | 'reopen' | 'cancel' | 'escalate'
export const DIALOG_ACTIONS: readonly TicketAction[] = ['assign', 'resolve', 'reopen', 'cancel', 'escalate']

const FROM: Record<TicketAction, readonly TicketStatus[]> = {
  start: ['open'],
  assign: ['open', 'in_progress'],
  resolve: ['in_progress'],
  close: ['resolved'],
  reopen: ['resolved'],
  cancel: ['open', 'in_progress'],
  escalate: ['open', 'in_progress'],
  edit: ['open', 'in_progress'],
}

export interface TicketWorker {
  id: number
  role: string
  can: (permission: string) => boolean
}

/** Handlers are the assigned agent (or any agent while unassigned), service managers and admins. */
export function mayWork(ticket: Pick<ServiceRecord, 'assigned_staff_id'>, user: TicketWorker): boolean {
  if (!user.can('ticket.handle')) return false
  if (user.role === 'service_agent') return ticket.assigned_staff_id === null || ticket.assigned_staff_id === user.id
  return true
}

export function availableActions(
  ticket: Pick<ServiceRecord, 'status' | 'assigned_staff_id' | 'escalated'>,
  user: TicketWorker,
): TicketAction[] {
  const actions: TicketAction[] = []
  const worker = mayWork(ticket, user)
  for (const action of Object.keys(FROM) as TicketAction[]) {
    if (!FROM[action].includes(ticket.status)) continue
    if (action === 'assign' ? !user.can('ticket.assign') : !worker) continue
    if (action === 'escalate' && ticket.escalated) continue
    actions.push(action)
  }
  return actions
}
