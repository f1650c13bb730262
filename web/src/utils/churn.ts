// Churn warnings: the list's filters in the URL, the tags' colours, the model's status line,
// the churn rules as a form, and the figures of the behaviour analysis.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import type { components, paths } from '@/api/schema'
import { REGIONS, type Region } from '@/api/types'
import { DEFAULT_PAGE_SIZE, first as one, oneOf, pagingFromQuery, pagingToQuery } from '@/utils/query'

type S = components['schemas']
export type ChurnWarning = S['ChurnWarning']
export type ChurnWarningDetail = S['ChurnWarningDetail']
export type ChurnModelStatus = S['ChurnModelStatus']
export type WarningSummary = S['WarningSummary']
export type ChurnRisk = S['ChurnRisk']
export type RetentionActionType = S['RetentionActionType']
export type WarningQuery = NonNullable<paths['/api/v1/crm/churn_warnings']['get']['parameters']['query']>
export type ChurnRules = S['ChurnRules']

export const RISKS: readonly ChurnRisk[] = ['high', 'medium', 'low']
export const ACTION_TYPES: readonly RetentionActionType[] = ['call', 'visit', 'wechat', 'email', 'meeting', 'offer', 'other']
export const LIFECYCLE_STAGES = ['prospect', 'new', 'active', 'at_risk', 'churned', 'won_back'] as const
export const WARNING_STATES = ['active', 'closed'] as const
export type WarningState = (typeof WARNING_STATES)[number]
const ACTIVE_STATUSES = new Set(['open', 'in_progress'])

/** Element Plus tag type per risk: high red, medium orange, low blue. */
export function riskTagType(risk: string | null | undefined): 'danger' | 'warning' | 'primary' | 'info' {
  return risk === 'high' ? 'danger' : risk === 'medium' ? 'warning' : risk === 'low' ? 'primary' : 'info'
}

/** Tag type per lifecycle stage. */
export function stageTagType(stage: string | null | undefined): 'success' | 'warning' | 'danger' | 'info' | 'primary' {
  switch (stage) {
    case 'new':
      return 'primary'
    case 'active':
    case 'won_back':
      return 'success'
    case 'at_risk':
      return 'warning'
    case 'churned':
      return 'danger'
    default:
      return 'info'
  }
}

/** Tag type per warning status. */
export function statusTagType(status: string): 'danger' | 'warning' | 'success' | 'info' {
  return status === 'open' ? 'danger' : status === 'in_progress' ? 'warning' : status === 'retained' ? 'success' : 'info'
}

export function isActive(warning: Pick<ChurnWarning, 'status'>): boolean {
  return ACTIVE_STATUSES.has(warning.status)
}

/** "0.0521" → "5.2%" (null stays null). */
export function probabilityText(probability: string | number | null | undefined): string | null {
  if (probability === null || probability === undefined || probability === '') return null
  const value = Number(probability)
  if (!Number.isFinite(value)) return null
  return `${(Math.round(value * 1000) / 10).toFixed(1)}%`
}

export interface WarningFilters {
  risk: ChurnRisk | null
  state: WarningState
  region: Region | null
  owner: 'me' | number | null
  overdue: boolean
  page: number
  pageSize: number
}

export function emptyWarningFilters(): WarningFilters {
  return { risk: null, state: 'active', region: null, owner: null, overdue: false, page: 1, pageSize: DEFAULT_PAGE_SIZE }
}

/** The filters a URL carries; anything unknown is dropped. */
export function warningFiltersFromQuery(query: LocationQuery): WarningFilters {
  const f = emptyWarningFilters()
  f.risk = oneOf(one(query.risk), RISKS)
  if (one(query.state) === 'closed') f.state = 'closed'
  f.region = oneOf(one(query.region), REGIONS)
  const owner = one(query.owner)
  if (owner === 'me') f.owner = 'me'
  else if (owner && /^\d{1,12}$/.test(owner)) f.owner = Number(owner)
  f.overdue = one(query.overdue) === '1'
  return { ...f, ...pagingFromQuery(query) }
}

/** The URL of the filters: only what differs from the defaults. */
export function warningFiltersToQuery(f: WarningFilters): LocationQueryRaw {
  const q: LocationQueryRaw = {}
  if (f.risk) q.risk = f.risk
  if (f.state !== 'active') q.state = f.state
  if (f.region) q.region = f.region
  if (f.owner !== null) q.owner = String(f.owner)
  if (f.overdue) q.overdue = '1'
  return pagingToQuery(f, q)
}

/** The API's query for the filters ("me" is the signed-in user's id). */
export function warningFiltersToApi(f: WarningFilters, myId: number | null): WarningQuery {
  const q: WarningQuery = { status: f.state, page: f.page, page_size: f.pageSize }
  if (f.risk) q.risk_level = f.risk
  if (f.region) q.region = f.region
  const owner = f.owner === 'me' ? myId : f.owner
  if (owner !== null) q.owner_id = owner
  if (f.overdue) q.task_overdue = true
  return q
}

export function activeWarningFilterCount(f: WarningFilters): number {
  return [f.risk, f.region, f.owner].filter((v) => v !== null).length + (f.overdue ? 1 : 0) + (f.state !== 'active' ? 1 : 0)
}

/** Active warnings per risk from the summary (risks without any count 0). */
export function countsByRisk(summary: Pick<WarningSummary, 'active'> | null): Record<ChurnRisk, number> {
  const counts: Record<ChurnRisk, number> = { high: 0, medium: 0, low: 0 }
  for (const row of summary?.active ?? []) counts[row.risk_level] = row.count
  return counts
}

export type ModelLine = { kind: 'model'; aucModel: string | null; aucRules: string | null } | { kind: 'rules'; message: string }

/** The status line above the list: the model's AUC against the rules', or why only rules apply. */
export function modelLine(status: Pick<ChurnModelStatus, 'basis' | 'message' | 'metrics'>): ModelLine {
  if (status.basis === 'model') {
    const auc = (key: string): string | null => {
      const v = (status.metrics as Record<string, unknown>)[key]
      return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : null
    }
    return { kind: 'model', aucModel: auc('auc_model'), aucRules: auc('auc_rules') }
  }
  return { kind: 'rules', message: status.message }
}

/** Retention actions oldest first, as they happened. */
export function actionsInOrder<T extends { action_date: string; id: number }>(actions: readonly T[]): T[] {
  return [...actions].sort((a, b) => (a.action_date === b.action_date ? a.id - b.id : a.action_date < b.action_date ? -1 : 1))
}

/** The action form's body: content trimmed, the optional date as local "YYYY-MM-DDTHH:mm:ss". */
export function actionBody(form: { action_type: RetentionActionType; content: string; action_date: string | null }): {
  action_type: RetentionActionType
  content: string
  action_date?: string
} {
  const body: { action_type: RetentionActionType; content: string; action_date?: string } = {
    action_type: form.action_type,
    content: form.content.trim(),
  }
  if (form.action_date) body.action_date = form.action_date
  return body
}

// ---------------------------------------------------------------- the churn rules tab

export const CHURN_THRESHOLDS = [
  'high_no_order_days',
  'high_min_orders',
  'high_history_days',
  'medium_no_interaction_days',
  'spend_window_days',
  'low_no_interaction_days',
  'overdue_medium_days',
  'overdue_high_days',
  'churned_after_days',
  'new_customer_days',
] as const
export const PLAYBOOK_LEVELS = ['A', 'B', 'C', 'D'] as const

/** Every playbook key the tab edits: per risk, then per level and risk. */
export function playbookKeys(): string[] {
  return [...RISKS, ...PLAYBOOK_LEVELS.flatMap((level) => RISKS.map((risk) => `${level}.${risk}`))]
}

/**
 * The churn section to send: the thresholds and due days as they are, the playbook's texts
 * trimmed with the empty ones left out (an empty level.risk falls back to the risk's text).
 */
export function churnPayload(rules: Partial<ChurnRules>): Partial<ChurnRules> {
  const body: Partial<ChurnRules> = { ...rules }
  if (rules.playbook) {
    body.playbook = Object.fromEntries(
      Object.entries(rules.playbook)
        .map(([key, text]) => [key, (text ?? '').trim()] as const)
        .filter(([, text]) => text !== ''),
    )
  }
  if (rules.task_due_days) body.task_due_days = { ...rules.task_due_days }
  return body
}

// ---------------------------------------------------------------- behaviour analysis

/** The 24 months up to the last month with orders, each with its spend (0 without orders). */
export function spendSeries(
  rows: readonly { month: string; orders: number; amount: string | null }[],
): { months: string[]; amounts: (number | null)[]; orders: number[] } {
  if (rows.length === 0) return { months: [], amounts: [], orders: [] }
  const sorted = [...rows].sort((a, b) => a.month.localeCompare(b.month))
  const first = sorted[0]!.month
  const last = sorted[sorted.length - 1]!.month
  const byMonth = new Map(sorted.map((r) => [r.month, r]))
  const months: string[] = []
  for (let m = first; m <= last && months.length < 600; m = nextMonth(m)) months.push(m)
  return {
    months,
    amounts: months.map((m) => {
      const row = byMonth.get(m)
      if (!row) return 0
      return row.amount === null ? null : Number(row.amount)
    }),
    orders: months.map((m) => byMonth.get(m)?.orders ?? 0),
  }
}

function nextMonth(month: string): string {
  const year = Number(month.slice(0, 4))
  const m = Number(month.slice(5, 7))
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`
}

/** Change from the previous period to the last: +25%, −100%, or "new" from zero (null when both zero). */
export function change(last: string | number | null, previous: string | number | null): { pct: number | null; direction: 'up' | 'down' | 'flat' } | null {
  if (last === null || previous === null) return null
  const a = Number(last)
  const b = Number(previous)
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null
  if (a === 0 && b === 0) return { pct: 0, direction: 'flat' }
  if (b === 0) return { pct: null, direction: 'up' }
  const pct = Math.round(((a - b) / b) * 100)
  return { pct, direction: pct > 0 ? 'up' : pct < 0 ? 'down' : 'flat' }
}

// ---------------------------------------------------------------- the dashboard's chart

/** The churn chart's bars: active warnings by risk, then the outcomes of the last 90 days. */
export function churnChart(summary: WarningSummary | null): { key: string; labelKey: string; value: number; color: string }[] {
  const counts = countsByRisk(summary)
  return [
    { key: 'high', labelKey: 'churn.risk.high', value: counts.high, color: '#f56c6c' },
    { key: 'medium', labelKey: 'churn.risk.medium', value: counts.medium, color: '#e6a23c' },
    { key: 'low', labelKey: 'churn.risk.low', value: counts.low, color: '#409eff' },
    { key: 'retained', labelKey: 'churn.analytics.retained', value: summary?.retained_90d ?? 0, color: '#67c23a' },
    { key: 'lost', labelKey: 'churn.analytics.lost', value: summary?.lost_90d ?? 0, color: '#909399' },
  ]
}
