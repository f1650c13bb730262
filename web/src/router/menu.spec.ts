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
  it('hides what a marketer may not do, the audit log and the analytics', () => {
    const marketer = new Set(['customer.read', 'customer.export'])
    const can = (p?: string) => p === undefined || marketer.has(p)
    expect(keys(visibleMenu(MENU, can))).toEqual(['workbench', 'customers-group', 'customers', 'churn-warnings', 'approvals'])
  })
  it('shows the analytics to whoever has analytics.read, and only to them', () => {
    const manager = new Set(['customer.read', 'ticket.create', 'analytics.read'])
    expect(keys(visibleMenu(MENU, (p) => p === undefined || manager.has(p)))).toContain('analytics')
    const rep = new Set(['customer.read', 'customer.create', 'ticket.create'])
    expect(keys(visibleMenu(MENU, (p) => p === undefined || rep.has(p)))).not.toContain('analytics')
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
