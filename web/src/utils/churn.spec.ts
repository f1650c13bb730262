import { describe, expect, it } from 'vitest'
import {
  actionBody,
  actionsInOrder,
  activeWarningFilterCount,
  change,
  churnChart,
  churnPayload,
  countsByRisk,
  emptyWarningFilters,
  modelLine,
  playbookKeys,
  probabilityText,
  riskTagType,
  spendSeries,
  stageTagType,
  warningFiltersFromQuery,
  warningFiltersToApi,
  warningFiltersToQuery,
} from './churn'
import {
  afterPlaybookRemoval,
  changedSections,
  playbookEntrySaved,
  playbookRemoval,
  sectionPayload,
  toForm,
  type TenantSettingsOut,
} from './settings'

describe('tags', () => {
  it('colours high red, medium orange and low blue', () => {
    expect([riskTagType('high'), riskTagType('medium'), riskTagType('low'), riskTagType(null)]).toEqual([
      'danger',
      'warning',
      'primary',
      'info',
    ])
  })
  it('marks an at-risk stage orange and a churned one red', () => {
    expect(stageTagType('at_risk')).toBe('warning')
    expect(stageTagType('churned')).toBe('danger')
    expect(stageTagType('won_back')).toBe('success')
    expect(stageTagType('prospect')).toBe('info')
  })
  it('shows a probability as a percentage with one decimal', () => {
    expect(probabilityText('0.0521')).toBe('5.2%')
    expect(probabilityText('1')).toBe('100.0%')
    expect(probabilityText(null)).toBeNull()
    expect(probabilityText('x')).toBeNull()
  })
})

describe('list filters', () => {
  it('round-trips through the URL, leaving the defaults out', () => {
    const f = { ...emptyWarningFilters(), risk: 'high' as const, state: 'closed' as const, region: '华东' as const, owner: 'me' as const, overdue: true, page: 3 }
    const query = warningFiltersToQuery(f)
    expect(query).toEqual({ risk: 'high', state: 'closed', region: '华东', owner: 'me', overdue: '1', page: '3' })
    expect(warningFiltersFromQuery(query as Record<string, string>)).toEqual(f)
    expect(warningFiltersToQuery(emptyWarningFilters())).toEqual({})
  })
  it('drops what it does not know', () => {
    const f = warningFiltersFromQuery({ risk: 'extreme', region: '火星', owner: 'x', page: '-1', size: '7', state: 'open' })
    expect(f).toEqual(emptyWarningFilters())
  })
  it('asks the API for active warnings by default and replaces "me" by the user id', () => {
    expect(warningFiltersToApi(emptyWarningFilters(), 7)).toEqual({ status: 'active', page: 1, page_size: 20 })
    const f = { ...emptyWarningFilters(), owner: 'me' as const, overdue: true, risk: 'low' as const }
    expect(warningFiltersToApi(f, 7)).toEqual({ status: 'active', page: 1, page_size: 20, owner_id: 7, task_overdue: true, risk_level: 'low' })
    expect(activeWarningFilterCount(f)).toBe(3)
  })
})

describe('summary and model', () => {
  it('counts every risk, missing ones as zero', () => {
    expect(countsByRisk({ active: [{ risk_level: 'high', count: 2 }] })).toEqual({ high: 2, medium: 0, low: 0 })
    expect(countsByRisk(null)).toEqual({ high: 0, medium: 0, low: 0 })
  })
  it('charts the active warnings by risk and the outcomes of 90 days', () => {
    const bars = churnChart({ active: [{ risk_level: 'medium', count: 4 }], task_overdue: 1, retained_90d: 3, lost_90d: 1 })
    expect(bars.map((b) => [b.key, b.value])).toEqual([
      ['high', 0],
      ['medium', 4],
      ['low', 0],
      ['retained', 3],
      ['lost', 1],
    ])
  })
  it('shows the AUC of model and rules, or the message when only rules apply', () => {
    expect(modelLine({ basis: 'model', message: 'm', metrics: { auc_model: 0.608, auc_rules: 0.4811 } })).toEqual({
      kind: 'model',
      aucModel: '0.608',
      aucRules: '0.481',
    })
    expect(modelLine({ basis: 'model', message: 'm', metrics: {} })).toEqual({ kind: 'model', aucModel: null, aucRules: null })
    expect(modelLine({ basis: 'rules', message: '尚未训练', metrics: {} })).toEqual({ kind: 'rules', message: '尚未训练' })
  })
})

describe('retention actions', () => {
  it('lists them oldest first', () => {
    const a = [
      { id: 3, action_date: '2026-12-02T10:00:00Z' },
      { id: 1, action_date: '2026-12-01T10:00:00Z' },
      { id: 2, action_date: '2026-12-02T10:00:00Z' },
    ]
    expect(actionsInOrder(a).map((x) => x.id)).toEqual([1, 2, 3])
  })
  it('sends the content trimmed and the date only when one was picked', () => {
    expect(actionBody({ action_type: 'call', content: '  回访 ', action_date: null })).toEqual({ action_type: 'call', content: '回访' })
    expect(actionBody({ action_type: 'visit', content: 'x', action_date: '2026-12-01T09:30:00' })).toEqual({
      action_type: 'visit',
      content: 'x',
      action_date: '2026-12-01T09:30:00',
    })
  })
})

describe('behaviour figures', () => {
  it('fills the months without orders with zero', () => {
    const s = spendSeries([
      { month: '2026-02', orders: 1, amount: '100.50' },
      { month: '2025-12', orders: 2, amount: '30' },
    ])
    expect(s.months).toEqual(['2025-12', '2026-01', '2026-02'])
    expect(s.amounts).toEqual([30, 0, 100.5])
    expect(s.orders).toEqual([2, 0, 1])
    expect(spendSeries([]).months).toEqual([])
  })
  it('keeps amounts hidden without the finance permission', () => {
    expect(spendSeries([{ month: '2026-01', orders: 1, amount: null }]).amounts).toEqual([null])
  })
  it('gives the change from the previous 90 days', () => {
    expect(change('150', '100')).toEqual({ pct: 50, direction: 'up' })
    expect(change(0, 4)).toEqual({ pct: -100, direction: 'down' })
    expect(change(2, 0)).toEqual({ pct: null, direction: 'up' })
    expect(change(0, 0)).toEqual({ pct: 0, direction: 'flat' })
    expect(change(null, '1')).toBeNull()
  })
})

describe('the churn rules tab', () => {
  const settings = (): TenantSettingsOut =>
    ({
      tenant_code: 'demo',
      tenant_name: '演示公司',
      churn: {
        high_no_order_days: 90,
        low_no_interaction_days: 30,
        playbook: { high: '上门拜访', medium: '电话回访', low: '微信问候', 'A.high': '总监拜访' },
        task_due_days: { high: 3, medium: 7, low: 14 },
      },
    }) as unknown as TenantSettingsOut

  it('edits every playbook key, unchanged until something is typed', () => {
    const form = toForm(settings())
    expect(Object.keys(form.churn!.playbook!)).toEqual(expect.arrayContaining(playbookKeys()))
    expect(playbookKeys()).toHaveLength(15)
    expect(changedSections(toForm(settings()), form)).toEqual([])
    form.churn!.high_no_order_days = 120
    expect(changedSections(toForm(settings()), form)).toEqual(['churn'])
  })
  it('saves only the churn section, empty strategies left out and texts trimmed', () => {
    const form = toForm(settings())
    form.churn!.playbook!['B.medium'] = '  专人跟进 '
    const body = sectionPayload('churn', form)
    expect(Object.keys(body)).toEqual(['churn'])
    expect(body.churn!.playbook).toEqual({ high: '上门拜访', medium: '电话回访', low: '微信问候', 'A.high': '总监拜访', 'B.medium': '专人跟进' })
    expect(body.churn!.task_due_days).toEqual({ high: 3, medium: 7, low: 14 })
  })
  it('offers to delete only the level entries the tenant has saved', () => {
    const saved = toForm(settings())
    const form = toForm(settings())
    form.churn!.playbook!['B.low'] = '刚输入未保存'
    expect(playbookEntrySaved(saved, 'A.high')).toBe(true)
    expect(playbookEntrySaved(saved, 'B.low')).toBe(false) // typed, not saved: nothing to delete
    expect(playbookEntrySaved(null, 'A.high')).toBe(false)
  })
  it('deletes an entry with null and keeps the other edits of the tab', () => {
    expect(playbookRemoval('A.high')).toEqual({ churn: { playbook: { 'A.high': null } } })
    const form = toForm(settings())
    form.churn!.high_no_order_days = 120
    form.churn!.playbook!['A.high'] = '改了一半'
    form.churn!.playbook!['C.low'] = '新策略'
    const answer = settings()
    delete (answer.churn!.playbook as Record<string, string>)['A.high']
    const saved = toForm(answer)
    const next = afterPlaybookRemoval(form, saved, 'A.high')
    expect(next.churn!.playbook!['A.high']).toBe('')
    expect(next.churn!.playbook!['C.low']).toBe('新策略')
    expect(next.churn!.high_no_order_days).toBe(120)
    expect(form.churn!.playbook!['A.high']).toBe('改了一半') // the form passed in is not changed
    expect(changedSections(saved, next)).toEqual(['churn']) // the unsaved edits still show
  })
  it('leaves a payload without a playbook alone', () => {
    expect(churnPayload({ high_no_order_days: 60 })).toEqual({ high_no_order_days: 60 })
  })
})
