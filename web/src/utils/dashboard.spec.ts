import { describe, expect, it } from 'vitest'
import { byMonth, churnQuery, customerQuery, hours, lastMonths, monthsBetween, nextMonth, serviceQuery } from './dashboard'

describe('month periods', () => {
  it('rolls over the year', () => {
    expect(nextMonth('2026-12')).toBe('2027-01')
    expect(monthsBetween('2026-11', '2027-02')).toEqual(['2026-11', '2026-12', '2027-01', '2027-02'])
    expect(lastMonths('2026-03-15', 6)).toEqual(['2025-10', '2026-03'])
  })
  it('asks the customer figures for business dates, both ends included', () => {
    expect(customerQuery('2026-01', '2026-02', null)).toEqual({ acquired_from: '2026-01-01', acquired_to: '2026-02-28' })
    expect(customerQuery('2024-02', '2024-02', '华东')).toEqual({
      acquired_from: '2024-02-01',
      acquired_to: '2024-02-29',
      region: '华东',
    })
  })
  it('asks the service figures for Beijing time, the end excluded', () => {
    expect(serviceQuery('2026-01', '2026-12', null)).toEqual({
      group_by: 'month',
      created_from: '2026-01-01T00:00:00+08:00',
      created_to: '2027-01-01T00:00:00+08:00',
    })
  })
  it('asks the service and churn figures for the chosen region only', () => {
    expect(serviceQuery('2026-11', '2026-11', '华南')).toEqual({
      group_by: 'month',
      created_from: '2026-11-01T00:00:00+08:00',
      created_to: '2026-12-01T00:00:00+08:00',
      region: '华南',
    })
    expect(churnQuery('华南')).toEqual({ region: '华南' })
    expect(churnQuery(null)).toEqual({})
  })
})

describe('series', () => {
  it('puts a value on every month, null where there is none', () => {
    const rows = [{ key: '2026-02', v: 5 }]
    expect(byMonth(['2026-01', '2026-02'], rows, (r) => r.key, (r) => r.v)).toEqual([null, 5])
  })
  it('shows minutes as hours', () => {
    expect(hours(90)).toBe(1.5)
    expect(hours(null)).toBeNull()
  })
})
