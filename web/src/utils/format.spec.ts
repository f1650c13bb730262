import { describe, expect, it } from 'vitest'
import { formatDate, formatMoney, today } from './format'

describe('formatMoney', () => {
  it('groups exact decimals without going through a float', () => {
    expect(formatMoney('29165225.38')).toBe('¥29,165,225.38')
    expect(formatMoney('9999999999999.99')).toBe('¥9,999,999,999,999.99')
    expect(formatMoney('12')).toBe('¥12.00')
    expect(formatMoney('0.5')).toBe('¥0.50')
  })
  it('shows nothing for a missing amount', () => {
    expect(formatMoney(null)).toBe('')
    expect(formatMoney('')).toBe('')
  })
})

describe('dates', () => {
  it('keeps the calendar date of an ISO value', () => {
    expect(formatDate('2026-11-25')).toBe('2026-11-25')
    expect(formatDate(null)).toBe('')
  })
  it("formats today's date", () => {
    expect(today(new Date(2026, 0, 5))).toBe('2026-01-05')
  })
})
