import { describe, expect, it } from 'vitest'
import type { FollowUp, PendingFollowUps } from '@/api/types'
import { businessDay, daysFromToday, dueLabel, groupsOf, rescheduledTo, totalOf, withoutFollowUp } from './followups'

// 2026-12-02 23:30 in Shanghai is still the 2nd there, but already 15:30 UTC of the 2nd.
const NOW = Date.parse('2026-12-02T15:30:00Z')

function followUp(id: number, due: string): FollowUp {
  return {
    interaction_id: id,
    subject: `s${id}`,
    next_action: null,
    next_action_date: due,
    staff_id: 3,
    version: 1,
    customer: { id: 1, customer_code: 'C1', customer_name: '甲', customer_level: 'A' },
    contact: null,
  }
}

describe('follow-up dates in the business time zone', () => {
  it('takes the day in Shanghai, not in UTC', () => {
    expect(businessDay('2026-12-02T16:30:00Z')).toBe('2026-12-03')
    expect(businessDay('2026-12-02T15:59:00Z')).toBe('2026-12-02')
  })

  it('counts business days from today', () => {
    expect(daysFromToday('2026-12-02T01:00:00Z', NOW)).toBe(0)
    expect(daysFromToday('2026-12-02T16:10:00Z', NOW)).toBe(1) // 00:10 on the 3rd in Shanghai
    expect(daysFromToday('2026-11-29T02:00:00Z', NOW)).toBe(-3)
  })

  it('labels overdue, today, tomorrow and later ones with the time of day', () => {
    expect(dueLabel('2026-11-29T02:00:00Z', NOW)).toEqual({ kind: 'overdue', days: 3, time: '10:00' })
    expect(dueLabel('2026-12-02T07:15:00Z', NOW)).toEqual({ kind: 'today', days: 0, time: '15:15' })
    expect(dueLabel('2026-12-03T01:00:00Z', NOW)).toEqual({ kind: 'tomorrow', days: 1, time: '09:00' })
    expect(dueLabel('2026-12-07T06:00:00Z', NOW)).toEqual({ kind: 'later', days: 5, time: '14:00' })
  })
})

describe('follow-up groups', () => {
  const pending: PendingFollowUps = {
    overdue: [followUp(1, '2026-11-29T02:00:00Z')],
    today: [followUp(2, '2026-12-02T07:00:00Z'), followUp(3, '2026-12-02T08:00:00Z')],
    upcoming: [],
    truncated: false,
  }

  it('are always overdue, today, upcoming in that order', () => {
    expect(groupsOf(pending).map((g) => [g.key, g.items.length])).toEqual([
      ['overdue', 1],
      ['today', 2],
      ['upcoming', 0],
    ])
    expect(groupsOf(null).map((g) => g.items.length)).toEqual([0, 0, 0])
    expect(totalOf(pending)).toBe(3)
  })

  it('lose a follow-up marked done at once', () => {
    const left = withoutFollowUp(pending, 2)
    expect(left.today.map((f) => f.interaction_id)).toEqual([3])
    expect(totalOf(left)).toBe(2)
    expect(totalOf(pending)).toBe(3)
  })
})

describe('quick reschedule', () => {
  it('moves to tomorrow, in three days or next Monday, keeping the time of day', () => {
    // The 2nd of December 2026 is a Wednesday.
    expect(rescheduledTo('tomorrow', '2026-11-29T07:30:00Z', NOW)).toBe('2026-12-03T15:30:00')
    expect(rescheduledTo('in3days', null, NOW)).toBe('2026-12-05T10:00:00')
    expect(rescheduledTo('nextWeek', null, NOW)).toBe('2026-12-07T10:00:00')
  })
})
