import { describe, expect, it } from 'vitest'
import {
  isManualLevel,
  levelSourceKey,
  moneyFigure,
  numberText,
  orderStatusType,
  percentFigure,
  showsCost,
  valueSeries,
} from './intelligence'

describe('moneyFigure', () => {
  it('formats an amount the reader may see', () => {
    expect(moneyFigure('523000.5', true)).toEqual({ text: '¥523,000.50', restricted: false })
    expect(moneyFigure('0', false)).toEqual({ text: '¥0.00', restricted: false })
  })
  it('marks a withheld amount as no permission, never as 0', () => {
    expect(moneyFigure(null, false)).toEqual({ text: '', restricted: true })
  })
  it('shows a dash for a missing amount when the reader has the permission', () => {
    expect(moneyFigure(null, true)).toEqual({ text: '—', restricted: false })
  })
})

describe('percentFigure and numberText', () => {
  it('shows a ratio as a percentage', () => {
    expect(percentFigure('0.2345', true).text).toBe('23.45%')
    expect(percentFigure('-0.1', true).text).toBe('-10.00%')
    expect(percentFigure(null, false).restricted).toBe(true)
    expect(percentFigure(null, true).text).toBe('—')
  })
  it('trims decimals of plain numbers', () => {
    expect(numberText('1.2500')).toBe('1.25')
    expect(numberText('4.666666')).toBe('4.67')
    expect(numberText(null)).toBe('—')
  })
})

describe('level sources', () => {
  it('names the known sources', () => {
    expect(levelSourceKey('manual')).toBe('level.history.sources.manual')
    expect(levelSourceKey('rule')).toBe('level.history.sources.rule')
    expect(levelSourceKey('release')).toBe('level.history.sources.release')
    expect(levelSourceKey('create')).toBe('level.history.sources.create')
    expect(levelSourceKey('something-new')).toBeNull()
  })
  it('finds a manual level from the newest entry only', () => {
    const at = (source: string, changed_at: string) => ({ source, changed_at })
    expect(isManualLevel([])).toBe(false)
    expect(isManualLevel([at('manual', '2026-12-01T08:00:00Z'), at('rule', '2026-11-30T17:00:00Z')])).toBe(true)
    expect(isManualLevel([at('release', '2026-12-01T09:00:00Z'), at('manual', '2026-12-01T08:00:00Z')])).toBe(false)
    // Whatever order the list comes in, the newest entry decides.
    expect(isManualLevel([at('rule', '2026-11-01T17:00:00Z'), at('manual', '2026-12-01T08:00:00Z')])).toBe(true)
  })
})

describe('valueSeries', () => {
  const snap = (analysis_date: string, annual: string | null, potential: string | null, clv: string | null) => ({
    analysis_date,
    annual_spend: annual,
    potential_value: potential,
    customer_lifetime_value: clv,
  })
  it('puts the history and the latest snapshot oldest first, as numbers', () => {
    const series = valueSeries(snap('2026-12-02', '300.5', '400', '900'), [
      snap('2026-11-01', '200', '250', '800'),
      snap('2026-10-01', '100', null, '700'),
    ])
    expect(series.dates).toEqual(['2026-10-01', '2026-11-01', '2026-12-02'])
    expect(series.annualSpend).toEqual([100, 200, 300.5])
    expect(series.potentialValue).toEqual([null, 250, 400])
    expect(series.lifetimeValue).toEqual([700, 800, 900])
    expect(series.hasMoney).toBe(true)
  })
  it('keeps one point per day and knows when every figure was withheld', () => {
    const series = valueSeries(snap('2026-12-02', null, null, null), [snap('2026-12-02', null, null, null)])
    expect(series.dates).toEqual(['2026-12-02'])
    expect(series.hasMoney).toBe(false)
  })
  it('is empty without snapshots', () => {
    expect(valueSeries(null, []).dates).toEqual([])
  })
})

describe('orders', () => {
  it('colours statuses', () => {
    expect(orderStatusType('completed')).toBe('success')
    expect(orderStatusType('refunded')).toBe('danger')
    expect(orderStatusType('cancelled')).toBe('info')
  })
  it('shows cost columns only when the API sent cost or margin', () => {
    expect(showsCost([{ cost: null, margin: null }])).toBe(false)
    expect(showsCost([{ cost: null, margin: null }, { cost: '10.00', margin: '5.00' }])).toBe(true)
    expect(showsCost([])).toBe(false)
  })
})
