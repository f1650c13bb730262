// Orders, value analysis and grading as the customer 360 page shows them.
import { formatMoney } from './format'

/** How a figure is shown: its text, or "no permission" when the API withheld it. */
export interface Figure {
  text: string
  restricted: boolean
}

const EMPTY = '—'

/**
 * A money figure. The API sends null for money the reader may not see (no finance
 * permission): that is "无权限查看", never 0; with the permission null only means "none".
 */
export function moneyFigure(value: string | number | null | undefined, canSeeMoney: boolean): Figure {
  if (value === null || value === undefined || value === '') {
    return canSeeMoney ? { text: EMPTY, restricted: false } : { text: '', restricted: true }
  }
  return { text: formatMoney(value), restricted: false }
}

/** A ratio ("0.2345") as a percentage ("23.45%"), withheld like money. */
export function percentFigure(value: string | number | null | undefined, canSeeMoney: boolean): Figure {
  if (value === null || value === undefined || value === '') {
    return canSeeMoney ? { text: EMPTY, restricted: false } : { text: '', restricted: true }
  }
  const n = Number(value)
  if (!Number.isFinite(n)) return { text: String(value), restricted: false }
  return { text: `${(n * 100).toFixed(2)}%`, restricted: false }
}

/** A plain number with at most `digits` decimals ("1.2500" → "1.25"); "—" when there is none. */
export function numberText(value: string | number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || value === '') return EMPTY
  const n = Number(value)
  if (!Number.isFinite(n)) return String(value)
  return String(Number(n.toFixed(digits)))
}

export const LEVEL_SOURCES = ['manual', 'rule', 'create', 'release', 'approval'] as const
export type LevelSource = (typeof LEVEL_SOURCES)[number]

/** The i18n key of a level history entry's source; null for one this UI does not know. */
export function levelSourceKey(source: string): string | null {
  return (LEVEL_SOURCES as readonly string[]).includes(source) ? `level.history.sources.${source}` : null
}

/**
 * Whether the level was set by a person, so the nightly rules leave it alone: the newest
 * level history entry (the list is newest first) is a manual one.
 */
export function isManualLevel(history: readonly { source: string; changed_at: string }[]): boolean {
  if (!history.length) return false
  const newest = history.reduce((a, b) => (b.changed_at > a.changed_at ? b : a))
  return newest.source === 'manual'
}

export interface SnapshotFigures {
  analysis_date: string
  annual_spend: string | null
  potential_value: string | null
  customer_lifetime_value: string | null
}

export interface ValueSeries {
  dates: string[]
  annualSpend: (number | null)[]
  potentialValue: (number | null)[]
  lifetimeValue: (number | null)[]
  /** False when every money figure was withheld (no finance permission): nothing to draw. */
  hasMoney: boolean
}

function amount(value: string | null): number | null {
  if (value === null || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** The chart's series from the latest snapshot and the history (newest first), oldest day first. */
export function valueSeries(latest: SnapshotFigures | null, history: readonly SnapshotFigures[]): ValueSeries {
  const byDate = new Map<string, SnapshotFigures>()
  for (const snapshot of [...history, ...(latest ? [latest] : [])]) byDate.set(snapshot.analysis_date, snapshot)
  const snapshots = [...byDate.values()].sort((a, b) => a.analysis_date.localeCompare(b.analysis_date))
  const annualSpend = snapshots.map((s) => amount(s.annual_spend))
  const potentialValue = snapshots.map((s) => amount(s.potential_value))
  const lifetimeValue = snapshots.map((s) => amount(s.customer_lifetime_value))
  return {
    dates: snapshots.map((s) => s.analysis_date),
    annualSpend,
    potentialValue,
    lifetimeValue,
    hasMoney: [...annualSpend, ...potentialValue, ...lifetimeValue].some((v) => v !== null),
  }
}

export type OrderStatusName = 'created' | 'paid' | 'shipped' | 'completed' | 'cancelled' | 'refunded'
export const ORDER_STATUSES: readonly OrderStatusName[] = ['created', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']

/** Element Plus tag type of an order status. */
export function orderStatusType(status: OrderStatusName): 'primary' | 'success' | 'warning' | 'info' | 'danger' {
  switch (status) {
    case 'completed':
      return 'success'
    case 'paid':
    case 'shipped':
      return 'primary'
    case 'created':
      return 'warning'
    case 'refunded':
      return 'danger'
    default:
      return 'info'
  }
}

/** Whether any order on the page carries cost or margin: only then are those columns shown. */
export function showsCost(orders: readonly { cost: string | null; margin: string | null }[]): boolean {
  return orders.some((o) => o.cost !== null || o.margin !== null)
}
