import { describe, expect, it } from 'vitest'
import { MENU, visibleMenu } from './menu'

const keys = (items: ReturnType<typeof visibleMenu>): string[] =>
  items.flatMap((item) => [item.key, ...(item.children ?? []).map((c) => c.key)])

describe('visibleMenu', () => {
  it('shows an admin everything', () => {
    expect(keys(visibleMenu(MENU, () => true))).toEqual([
      'workbench',
      'customers-group',
      'customers',
      'customer-new',
      'churn-warnings',
      'service-desk',
      'approvals',
      'analytics',
      'audit',
      'admin-group',
      'admin-users',
      'admin-regions',
      'admin-rules',
    ])
  })
  it('hides what a marketer may not do, and the audit log', () => {
    const marketer = new Set(['customer.read', 'customer.export'])
    const can = (p?: string) => p === undefined || marketer.has(p)
    expect(keys(visibleMenu(MENU, can))).toEqual(['workbench', 'customers-group', 'customers', 'churn-warnings', 'approvals', 'analytics'])
  })
  it('shows the service desk to whoever opens tickets', () => {
    const agent = new Set(['customer.read', 'ticket.create', 'ticket.handle'])
    const can = (p?: string) => p === undefined || agent.has(p)
    expect(keys(visibleMenu(MENU, can))).toEqual([
      'workbench',
      'customers-group',
      'customers',
      'churn-warnings',
      'service-desk',
      'approvals',
      'analytics',
    ])
  })
  it('shows a sales rep no administration', () => {
    const sales = new Set(['customer.read', 'customer.create', 'ticket.create'])
    const can = (p?: string) => p === undefined || sales.has(p)
    expect(keys(visibleMenu(MENU, can))).not.toContain('admin-group')
  })
  it('shows the users pages without the rules page to whoever manages only users', () => {
    const can = (p?: string) => p === undefined || p === 'user.manage'
    const admin = visibleMenu(MENU, can).find((item) => item.key === 'admin-group')
    expect(admin?.children?.map((c) => c.key)).toEqual(['admin-users', 'admin-regions'])
  })
  it('drops a group left without entries', () => {
    const can = (p?: string) => p === undefined
    expect(keys(visibleMenu(MENU, can))).toEqual(['workbench', 'approvals'])
  })
})
