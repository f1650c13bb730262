// SLA clocks of a ticket as the UI shows them: which clock runs, its state now, the countdown.
import type { ServiceRecord, SlaState, TicketStatus } from '@/api/types'

export type SlaClockKind = 'first_response' | 'resolution'

export interface SlaClock {
  kind: SlaClockKind
  state: SlaState
  due: string | null
  /** Still counting (the ticket is open or in progress and the clock not stopped). */
  running: boolean
}

type SlaFields = Pick<
  ServiceRecord,
  'status' | 'first_response_date' | 'first_response_sla' | 'first_response_due' | 'resolution_sla' | 'resolution_due'
>

const ACTIVE: readonly TicketStatus[] = ['open', 'in_progress']

export function isActive(status: TicketStatus): boolean {
  return ACTIVE.includes(status)
}

/**
 * The state at `now`: the server's state is as of the answer, so a running clock whose due
 * time has passed since is shown breached before the next reload. (The at-risk moment is the
 * server's to know: it is not in the answer.)
 */
export function liveState(state: SlaState | null | undefined, due: string | null | undefined, now: number): SlaState | null {
  if (!state) return null
  if ((state === 'ok' || state === 'at_risk') && due && Date.parse(due) <= now) return 'breached'
  return state
}

/** The clock that matters: first response until someone answered, then resolution. */
export function currentClock(ticket: SlaFields, now: number): SlaClock | null {
  if (ticket.status === 'cancelled') return null
  const active = isActive(ticket.status)
  if (active && !ticket.first_response_date && ticket.first_response_sla) {
    const state = liveState(ticket.first_response_sla, ticket.first_response_due, now)
    // A late first response matters less than a resolution that is also late.
    const resolution = liveState(ticket.resolution_sla, ticket.resolution_due, now)
    if (state && !(resolution === 'breached' && state !== 'breached')) {
      return { kind: 'first_response', state, due: ticket.first_response_due ?? null, running: true }
    }
  }
  const state = liveState(ticket.resolution_sla, ticket.resolution_due, now)
  if (!state) return null
  return { kind: 'resolution', state, due: ticket.resolution_due ?? null, running: active && state !== 'met' }
}

/** Element Plus tag type per state: ok blue, at risk orange, breached red, met green. */
export function slaTagType(state: SlaState | null | undefined): 'primary' | 'warning' | 'danger' | 'success' | 'info' {
  switch (state) {
    case 'ok':
      return 'primary'
    case 'at_risk':
      return 'warning'
    case 'breached':
      return 'danger'
    case 'met':
      return 'success'
    default:
      return 'info'
  }
}

const RANK: Record<SlaState, number> = { breached: 0, at_risk: 1, ok: 2, met: 3 }

/** Most urgent first: breached, at risk, ok, then by the due time that comes first. */
export function byUrgency(now: number) {
  return (a: SlaFields & { id: number }, b: SlaFields & { id: number }): number => {
    const ca = currentClock(a, now)
    const cb = currentClock(b, now)
    const ra = ca && ca.running ? RANK[ca.state] : 9
    const rb = cb && cb.running ? RANK[cb.state] : 9
    if (ra !== rb) return ra - rb
    const da = ca?.due ? Date.parse(ca.due) : Number.POSITIVE_INFINITY
    const db = cb?.due ? Date.parse(cb.due) : Number.POSITIVE_INFINITY
    if (da !== db) return da - db
    return b.id - a.id
  }
}

export interface DurationParts {
  days: number
  hours: number
  minutes: number
}

export function durationParts(ms: number): DurationParts {
  const minutes = Math.floor(Math.abs(ms) / 60_000)
  return { days: Math.floor(minutes / 1440), hours: Math.floor((minutes % 1440) / 60), minutes: minutes % 60 }
}

/** "1天3小时", "2小时15分", "45分钟" (zh) or "1d 3h", "2h 15m", "45m" (en): the two largest units. */
export function formatDuration(ms: number, locale: string): string {
  const { days, hours, minutes } = durationParts(ms)
  const zh = locale.startsWith('zh')
  if (days > 0) return zh ? `${days}天${hours ? `${hours}小时` : ''}` : `${days}d${hours ? ` ${hours}h` : ''}`
  if (hours > 0) return zh ? `${hours}小时${minutes ? `${minutes}分` : ''}` : `${hours}h${minutes ? ` ${minutes}m` : ''}`
  if (minutes > 0) return zh ? `${minutes}分钟` : `${minutes}m`
  return zh ? '不到1分钟' : '<1m'
}

export interface Countdown {
  overdue: boolean
  text: string
}

/** Time left until `due` (or how long past it), for a running clock. */
export function countdown(due: string | null | undefined, now: number, locale: string): Countdown | null {
  if (!due) return null
  const left = Date.parse(due) - now
  if (Number.isNaN(left)) return null
  return { overdue: left <= 0, text: formatDuration(left, locale) }
}
