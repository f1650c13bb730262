import { describe, expect, it } from 'vitest'
import { reactive } from 'vue'
import {
  applySaved,
  changedSections,
  groupThousands,
  moneyText,
  sectionPayload,
  toForm,
  ungroup,
  type TenantSettingsOut,
} from './settings'

function answer(): TenantSettingsOut {
  return {
    tenant_code: 'demo',
    tenant_name: '演示公司',
    brand_name: null,
    masking: { contact_phone: true, contact_email: true, contact_wechat: true, birthday: true, detailed_address: true },
    export_approval_threshold: 1000,
    export_daily_limit: 20,
    service_calendar: { weekdays: [0, 1, 2, 3, 4], start: '09:00', end: '18:00', holidays: [], workdays: [] },
    sla: { urgent: { first_response_hours: 1, resolution_hours: 4 } },
    assignment: { enabled: true, weights: { urgent: 4 }, max_load: 24, vip_team: null, region_teams: { 华东: '华东服务组' } },
    value: { cost_per_ticket: '50', cost_per_interaction_minute: '2.00', default_margin: '0.3', lifetime_cap_months: 60, snapshot_days: 90 },
    grading: { a_spend: '500000', a_potential: '1000000', b_spend: '200000', b_potential: '500000', c_spend: '50000', c_potential: '200000' },
    survey_valid_days: 14,
    payment_terms: { AAA: 90, C: 0 },
  } as TenantSettingsOut
}

describe('section payloads', () => {
  it('sends only the keys of the tab saved, the section whole', () => {
    const form = toForm(answer())
    form.grading!.a_spend = '600,000'
    expect(sectionPayload('grading', form)).toEqual({
      grading: {
        a_spend: '600000.00',
        a_potential: '1000000.00',
        b_spend: '200000.00',
        b_potential: '500000.00',
        c_spend: '50000.00',
        c_potential: '200000.00',
      },
    })
  })
  it('sends the scalars of the other tab together, an empty brand as null', () => {
    const form = toForm(answer())
    form.brand_name = '  '
    form.survey_valid_days = 30
    expect(sectionPayload('other', form)).toEqual({
      brand_name: null,
      survey_valid_days: 30,
      export_approval_threshold: 1000,
      export_daily_limit: 20,
    })
  })
  it('leaves out regions without a team and clears an empty VIP team', () => {
    const form = toForm(answer())
    form.assignment!.region_teams = { 华东: ' 华东服务组 ', 华南: '' } as Record<string, string>
    form.assignment!.vip_team = ''
    const body = sectionPayload('assignment', form)
    expect(body.assignment?.region_teams).toEqual({ 华东: '华东服务组' })
    expect(body.assignment?.vip_team).toBeNull()
    expect(Object.keys(body)).toEqual(['assignment'])
  })
  it('reads a form Vue made reactive', () => {
    const form = reactive(toForm(answer()))
    expect(sectionPayload('credit', form)).toEqual({ payment_terms: { AAA: 90, C: 0 } })
    expect(applySaved('credit', form, toForm(answer())).payment_terms).toEqual({ AAA: 90, C: 0 })
  })
  it('does not change the form it reads', () => {
    const form = toForm(answer())
    form.assignment!.vip_team = ''
    sectionPayload('assignment', form)
    expect(form.assignment!.vip_team).toBe('')
  })
})

describe('changed sections', () => {
  it('finds none right after loading, although money gained its decimals', () => {
    const form = toForm(answer())
    expect(form.grading!.a_spend).toBe('500000.00')
    expect(changedSections(toForm(answer()), form)).toEqual([])
  })
  it('names the tabs edited', () => {
    const original = toForm(answer())
    const form = toForm(answer())
    form.grading!.c_spend = '60000'
    form.service_calendar!.holidays = ['2027-01-01']
    expect(changedSections(original, form)).toEqual(['grading', 'calendar'])
  })
  it('treats an amount typed with commas as the same amount', () => {
    const original = toForm(answer())
    const form = toForm(answer())
    form.grading!.a_spend = '500,000'
    expect(changedSections(original, form)).toEqual([])
  })
})

describe('after a save', () => {
  it('takes the saved tab from the answer and keeps edits of other tabs', () => {
    const form = toForm(answer())
    form.survey_valid_days = 30
    const saved = toForm({ ...answer(), grading: { ...answer().grading!, a_spend: '700000.00' } })
    const next = applySaved('grading', form, saved)
    expect(next.grading!.a_spend).toBe('700000.00')
    expect(next.survey_valid_days).toBe(30)
  })
})

describe('money text', () => {
  it('keeps every digit of large amounts', () => {
    expect(moneyText('999999999999.99')).toBe('999999999999.99')
    expect(moneyText('1,234,567.5')).toBe('1234567.50')
    expect(moneyText(500000)).toBe('500000.00')
    expect(moneyText('¥ 12')).toBe('12.00')
  })
  it('leaves what is not an amount for the server to refuse', () => {
    expect(moneyText('abc')).toBe('abc')
    expect(moneyText('1.234')).toBe('1.234')
  })
  it('groups the whole part only and takes the grouping off again', () => {
    expect(groupThousands('1234567.891')).toBe('1,234,567.891')
    expect(groupThousands('999')).toBe('999')
    expect(ungroup('1,234,567.89')).toBe('1234567.89')
  })
})
