// The analytics dashboard: a month period as the two APIs want it, and series by month.
import type { Region } from '@/api/types'

/** "2026-11" → the month after, "2026-12"; "2026-12" → "2027-01". */
export function nextMonth(month: string): string {
  const year = Number(month.slice(0, 4))
  const m = Number(month.slice(5, 7))
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`
}

/** Every month from `first` to `last`, both included. */
export function monthsBetween(first: string, last: string): string[] {
  const result: string[] = []
  for (let m = first; m <= last && result.length < 600; m = nextMonth(m)) result.push(m)
  return result
}

/** The last `count` months up to the one of `today` ("YYYY-MM-DD"), as [from, to] months. */
export function lastMonths(today: string, count: number): [string, string] {
  const to = today.slice(0, 7)
  let year = Number(to.slice(0, 4))
  let month = Number(to.slice(5, 7)) - (count - 1)
  while (month < 1) {
    month += 12
    year -= 1
  }
  return [`${year}-${String(month).padStart(2, '0')}`, to]
}

function lastDay(month: string): string {
  const year = Number(month.slice(0, 4))
  const m = Number(month.slice(5, 7))
  const day = new Date(Date.UTC(year, m, 0)).getUTCDate()
  return `${month}-${String(day).padStart(2, '0')}`
}

/** The customer dashboard's query: business dates, both ends included. */
export function customerQuery(from: string, to: string, region: string | null): Record<string, string> {
  return { acquired_from: `${from}-01`, acquired_to: lastDay(to), ...(region ? { region } : {}) }
}

/** The service statistics' query: Beijing-time instants, the end excluded (the first of the next month). */
export function serviceQuery(
  from: string,
  to: string,
  region: Region | null,
): { group_by: 'month'; created_from: string; created_to: string; region?: Region } {
  return {
    group_by: 'month',
    created_from: `${from}-01T00:00:00+08:00`,
    created_to: `${nextMonth(to)}-01T00:00:00+08:00`,
    ...(region ? { region } : {}),
  }
}

/** The churn summary's query: today's warnings, of one region when one is chosen. */
export function churnQuery(region: Region | null): { region?: Region } {
  return region ? { region } : {}
}

/** A value per month of the period (null where a month has no figure), for a chart's series. */
export function byMonth<T>(months: readonly string[], rows: readonly T[], key: (row: T) => string, value: (row: T) => number | null | undefined): (number | null)[] {
  const found = new Map(rows.map((row) => [key(row), value(row)]))
  return months.map((m) => found.get(m) ?? null)
}

/** Minutes → hours with one decimal (null stays null). */
export function hours(minutes: number | null | undefined): number | null {
  return minutes === null || minutes === undefined ? null : Math.round((minutes / 60) * 10) / 10
}
