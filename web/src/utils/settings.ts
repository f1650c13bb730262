// The business-rules page: the settings as one form, split into the sections its tabs save.
import type { components } from '@/api/schema'
import { churnPayload, playbookKeys } from '@/utils/churn'

type S = components['schemas']
export type TenantSettingsOut = S['TenantSettingsOut']
export type TenantSettingsUpdate = S['TenantSettingsUpdate']

/** Every tab of the page and the settings keys it owns: saving a tab sends only these. */
export const SECTIONS = {
  grading: ['grading'],
  sla: ['sla'],
  calendar: ['service_calendar'],
  assignment: ['assignment'],
  value: ['value'],
  churn: ['churn'],
  credit: ['payment_terms'],
  masking: ['masking'],
  other: ['brand_name', 'survey_valid_days', 'export_approval_threshold', 'export_daily_limit'],
} as const satisfies Record<string, readonly (keyof TenantSettingsUpdate)[]>

export type Section = keyof typeof SECTIONS
export const SECTION_NAMES = Object.keys(SECTIONS) as Section[]
export const GRADING_KEYS = ['a_spend', 'a_potential', 'b_spend', 'b_potential', 'c_spend', 'c_potential'] as const
export const VALUE_MONEY_KEYS = ['cost_per_ticket', 'cost_per_interaction_minute'] as const

/** The editable settings: what the API answers, without the tenant's code and name. */
export type SettingsForm = Omit<TenantSettingsOut, 'tenant_code' | 'tenant_name'>

/** A deep copy of JSON data; unlike structuredClone it also copies Vue's reactive proxies. */
function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T)
}

/** A deep copy of the settings to edit (the server's answer stays untouched for diffing). */
export function toForm(settings: TenantSettingsOut): SettingsForm {
  const { tenant_code: _code, tenant_name: _name, ...rest } = settings
  const form = clone(rest) as SettingsForm
  // Money arrives as decimal text; keep it text (never a float) with two decimals.
  if (form.grading) {
    for (const key of GRADING_KEYS) form.grading[key] = moneyText(form.grading[key])
  }
  if (form.value) {
    for (const key of VALUE_MONEY_KEYS) form.value[key] = moneyText(form.value[key])
  }
  // Every playbook key the tab shows is in the form, those the tenant has not set empty.
  if (form.churn) {
    form.churn.playbook = { ...Object.fromEntries(playbookKeys().map((k) => [k, ''])), ...(form.churn.playbook ?? {}) }
  }
  return form
}

function normalise(value: unknown): unknown {
  if (typeof value === 'string') {
    const trimmed = value.trim()
    return trimmed === '' ? null : trimmed
  }
  if (Array.isArray(value)) return value.map(normalise)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, normalise(v)]),
    )
  }
  return value
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b))
}

/** Whether a tab has edits not saved yet (money "500000" and "500000.00" are the same). */
export function sectionChanged(section: Section, original: SettingsForm, form: SettingsForm): boolean {
  return SECTIONS[section].some((key) => !same(canonical(key, original[key]), canonical(key, form[key])))
}

export function changedSections(original: SettingsForm, form: SettingsForm): Section[] {
  return SECTION_NAMES.filter((section) => sectionChanged(section, original, form))
}

function canonical(key: string, value: unknown): unknown {
  if (key === 'grading' && value && typeof value === 'object') {
    const copy = { ...(value as Record<string, unknown>) }
    for (const k of GRADING_KEYS) copy[k] = moneyText(copy[k] as string | number | undefined)
    return copy
  }
  if (key === 'value' && value && typeof value === 'object') {
    const copy = { ...(value as Record<string, unknown>) }
    for (const k of VALUE_MONEY_KEYS) copy[k] = moneyText(copy[k] as string | number | undefined)
    return copy
  }
  return value
}

/**
 * The PUT body that saves one tab: its keys only, each section whole (the server checks a
 * section's rules together, e.g. thresholds falling from A to C), texts trimmed, money as text
 * without grouping commas, and an empty brand name as null (which clears it).
 */
export function sectionPayload(section: Section, form: SettingsForm): TenantSettingsUpdate {
  const body: Record<string, unknown> = {}
  for (const key of SECTIONS[section]) {
    let value: unknown = clone(form[key])
    if (key === 'grading' || key === 'value') value = canonical(key, value)
    if (key === 'churn' && value && typeof value === 'object') value = churnPayload(value as Parameters<typeof churnPayload>[0])
    if (key === 'brand_name') value = typeof value === 'string' && value.trim() !== '' ? value.trim() : null
    if (key === 'assignment' && value && typeof value === 'object') {
      const rules = value as { vip_team?: string | null; region_teams?: Record<string, string | null> }
      rules.vip_team = rules.vip_team?.trim() || null
      // A region without a team is left out rather than sent empty (the server needs a name).
      rules.region_teams = Object.fromEntries(
        Object.entries(rules.region_teams ?? {})
          .map(([region, team]) => [region, team?.trim() ?? ''] as const)
          .filter(([, team]) => team !== ''),
      )
    }
    body[key] = value
  }
  return body as TenantSettingsUpdate
}

/** After a save: the server's answer for the saved tab, the form's own edits elsewhere kept. */
export function applySaved(section: Section, form: SettingsForm, saved: SettingsForm): SettingsForm {
  const next = { ...form } as Record<string, unknown>
  for (const key of SECTIONS[section]) next[key] = clone((saved as Record<string, unknown>)[key])
  return next as SettingsForm
}

/** Whether the tenant has its own strategy for a playbook key (as saved, not as typed). */
export function playbookEntrySaved(saved: SettingsForm | null, key: string): boolean {
  return !!saved?.churn?.playbook?.[key]?.trim()
}

/** The PUT body that removes one playbook entry of the tenant (null removes a key). */
export function playbookRemoval(key: string): TenantSettingsUpdate {
  return { churn: { playbook: { [key]: null } } }
}

/**
 * After removing a playbook entry: that key as the server now has it (empty), every other edit
 * of the form kept, on this tab too.
 */
export function afterPlaybookRemoval(form: SettingsForm, saved: SettingsForm, key: string): SettingsForm {
  const next = clone(form)
  if (next.churn) next.churn.playbook = { ...(next.churn.playbook ?? {}), [key]: saved.churn?.playbook?.[key] ?? '' }
  return next
}

/** Decimal text for an amount field: "1,234,567.8" or 500000 → "1234567.80" / "500000.00"; bad input unchanged. */
export function moneyText(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = (typeof value === 'number' ? String(value) : value).replace(/[,\s¥]/g, '')
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text)
  if (!match) return text
  const [, sign, whole = '0', fraction = ''] = match
  if (fraction.length > 2) return text
  return `${sign}${whole.replace(/^0+(?=\d)/, '')}.${(fraction + '00').slice(0, 2)}`
}

/** What an amount input shows: the integer part grouped by thousands ("1234567.5" → "1,234,567.5"). */
export function groupThousands(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = String(value).replace(/,/g, '')
  const [whole = '', ...rest] = text.split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return rest.length ? `${grouped}.${rest.join('.')}` : grouped
}

/** What an amount input stores: the text without grouping commas. */
export function ungroup(value: string): string {
  return value.replace(/,/g, '')
}

/** Sorted, unique ISO dates (holidays and 调休 workdays). */
export function sortedDates(dates: readonly string[]): string[] {
  return [...new Set(dates)].sort()
}
