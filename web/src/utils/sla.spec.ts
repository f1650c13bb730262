import { describe, expect, it } from 'vitest'
import type { ServiceRecord } from '@/api/types'
import { byUrgency, countdown, currentClock, formatDuration, liveState, slaTagType } from './sla'

const NOW = Date.parse('2026-12-02T04:00:00Z')
const HOUR = 3_600_000

function ticket(values: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id: 1,
    status: 'open',
    first_response_date: null,
    first_response_sla: 'ok',
    first_response_due: new Date(NOW + 2 * HOUR).toISOString(),
    resolution_sla: 'ok',
    resolution_due: new Date(NOW + 20 * HOUR).toISOString(),
    updated_at: new Date(NOW).toISOString(),
    ...values,
  } as ServiceRecord
}

describe('SLA clocks', () => {
  it('an open ticket nobody answered runs its first-response clock', () => {
    expect(currentClock(ticket(), NOW)).toEqual({
      kind: 'first_response',
      state: 'ok',
      due: ticket().first_response_due,
      running: true,
    })
  })

  it('after the first response the resolution clock runs', () => {
    const clock = currentClock(
      ticket({ status: 'in_progress', first_response_date: new Date(NOW - HOUR).toISOString(), first_response_sla: 'met' }),
      NOW,
    )
    expect(clock?.kind).toBe('resolution')
    expect(clock?.running).toBe(true)
  })

  it('a breached resolution shows over a first response that is only at risk', () => {
    const clock = currentClock(ticket({ first_response_sla: 'at_risk', resolution_sla: 'breached' }), NOW)
    expect(clock).toMatchObject({ kind: 'resolution', state: 'breached' })
  })

  it('resolved tickets show whether the target was met, without counting', () => {
    expect(currentClock(ticket({ status: 'resolved', first_response_sla: 'met', resolution_sla: 'met' }), NOW)).toMatchObject({
      kind: 'resolution',
      state: 'met',
      running: false,
    })
    expect(currentClock(ticket({ status: 'closed', resolution_sla: 'breached' }), NOW)?.running).toBe(false)
  })

  it('cancelled tickets have no clock', () => {
    expect(currentClock(ticket({ status: 'cancelled', first_response_sla: null, resolution_sla: null }), NOW)).toBeNull()
  })

  it('a running clock past its due time is breached before the next reload', () => {
    const past = new Date(NOW - 1000).toISOString()
    expect(liveState('ok', past, NOW)).toBe('breached')
    expect(liveState('at_risk', past, NOW)).toBe('breached')
    expect(liveState('met', past, NOW)).toBe('met')
    expect(liveState('ok', new Date(NOW + 1000).toISOString(), NOW)).toBe('ok')
    expect(liveState(null, past, NOW)).toBeNull()
  })

  it('colours: ok blue, at risk orange, breached red, met green', () => {
    expect(slaTagType('ok')).toBe('primary')
    expect(slaTagType('at_risk')).toBe('warning')
    expect(slaTagType('breached')).toBe('danger')
    expect(slaTagType('met')).toBe('success')
    expect(slaTagType(null)).toBe('info')
  })

  it('orders breached, then at risk, then ok, then finished, earliest due first', () => {
    const tickets = [
      ticket({ id: 1, status: 'resolved', resolution_sla: 'met' }),
      ticket({ id: 2, first_response_due: new Date(NOW + 5 * HOUR).toISOString() }),
      ticket({ id: 3, first_response_sla: 'at_risk' }),
      ticket({ id: 4, first_response_sla: 'breached', first_response_due: new Date(NOW - HOUR).toISOString() }),
      ticket({ id: 5 }),
    ]
    expect(tickets.sort(byUrgency(NOW)).map((t) => t.id)).toEqual([4, 3, 5, 2, 1])
  })
})

describe('countdown text', () => {
  it('keeps the two largest units', () => {
    expect(formatDuration(27 * HOUR + 5 * 60_000, 'zh-CN')).toBe('1天3小时')
    expect(formatDuration(2 * HOUR + 15 * 60_000, 'zh-CN')).toBe('2小时15分')
    expect(formatDuration(2 * HOUR, 'zh-CN')).toBe('2小时')
    expect(formatDuration(45 * 60_000 + 30_000, 'zh-CN')).toBe('45分钟')
    expect(formatDuration(20_000, 'zh-CN')).toBe('不到1分钟')
    expect(formatDuration(48 * HOUR, 'en')).toBe('2d')
    expect(formatDuration(-(2 * HOUR + 15 * 60_000), 'en')).toBe('2h 15m')
  })

  it('says whether the due time has passed', () => {
    expect(countdown(new Date(NOW + 90 * 60_000).toISOString(), NOW, 'zh-CN')).toEqual({ overdue: false, text: '1小时30分' })
    expect(countdown(new Date(NOW - 3 * HOUR).toISOString(), NOW, 'zh-CN')).toEqual({ overdue: true, text: '3小时' })
    expect(countdown(null, NOW, 'zh-CN')).toBeNull()
  })
})
