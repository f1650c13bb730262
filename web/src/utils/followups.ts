// The workbench's follow-ups: the API groups them by business day; these label and move them.
import type { FollowUp, PendingFollowUps } from '@/api/types'

export type FollowUpGroup = 'overdue' | 'today' | 'upcoming'
export const FOLLOW_UP_GROUPS: readonly FollowUpGroup[] = ['overdue', 'today', 'upcoming']
export const BUSINESS_TIME_ZONE = 'Asia/Shanghai'

/** YYYY-MM-DD of `moment` in the business time zone (follow-ups are due on the tenant's days). */
export function businessDay(moment: Date | string | number, timeZone = BUSINESS_TIME_ZONE): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(moment),
  )
  return parts
}

/** HH:mm of `moment` in the business time zone. */
export function businessTime(moment: Date | string | number, timeZone = BUSINESS_TIME_ZONE): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(moment),
  )
}

function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000)
}

/** Whole business days from today to the day `due` falls on (negative: overdue). */
export function daysFromToday(due: string, now: Date | number = Date.now()): number {
  return dayNumber(businessDay(due)) - dayNumber(businessDay(now))
}

export interface DueLabel {
  kind: 'overdue' | 'today' | 'tomorrow' | 'later'
  days: number
  time: string
}

/** What a follow-up's due date says next to it: "逾期 3 天", "今天 15:00", "明天 10:00", "5 天后". */
export function dueLabel(due: string, now: Date | number = Date.now()): DueLabel {
  const days = daysFromToday(due, now)
  const time = businessTime(due)
  if (days < 0) return { kind: 'overdue', days: -days, time }
  if (days === 0) return { kind: 'today', days: 0, time }
  if (days === 1) return { kind: 'tomorrow', days: 1, time }
  return { kind: 'later', days, time }
}

export function groupsOf(pending: PendingFollowUps | null): { key: FollowUpGroup; items: FollowUp[] }[] {
  return FOLLOW_UP_GROUPS.map((key) => ({ key, items: pending?.[key] ?? [] }))
}

export function totalOf(pending: PendingFollowUps | null): number {
  return pending ? pending.overdue.length + pending.today.length + pending.upcoming.length : 0
}

/** The follow-ups without one (marked done or moved), without waiting for the reload. */
export function withoutFollowUp(pending: PendingFollowUps, interactionId: number): PendingFollowUps {
  const keep = (items: FollowUp[]) => items.filter((f) => f.interaction_id !== interactionId)
  return { ...pending, overdue: keep(pending.overdue), today: keep(pending.today), upcoming: keep(pending.upcoming) }
}

export type RescheduleChoice = 'tomorrow' | 'in3days' | 'nextWeek'
export const RESCHEDULE_CHOICES: readonly RescheduleChoice[] = ['tomorrow', 'in3days', 'nextWeek']

/**
 * The new due moment of a quick reschedule, at the same time of day as before (10:00 when it
 * had none), as a local date-time the API reads in the business time zone.
 */
export function rescheduledTo(choice: RescheduleChoice, previous: string | null, now: Date | number = Date.now()): string {
  const today = dayNumber(businessDay(now))
  let target = today + (choice === 'tomorrow' ? 1 : choice === 'in3days' ? 3 : 7)
  if (choice === 'nextWeek') {
    // Monday of next week (day 0 of the epoch, 1970-01-01, was a Thursday).
    const weekday = (today + 3) % 7 // 0 = Monday
    target = today + (7 - weekday)
  }
  const day = new Date(target * 86_400_000).toISOString().slice(0, 10)
  const time = previous ? businessTime(previous) : '10:00'
  return `${day}T${time}:00`
}
