// The sidebar: what each role sees is filtered by the permissions /auth/me returns.
// Later modules (analytics, campaigns) add an entry here and a route in index.ts.
import type { Component } from 'vue'
import { DataAnalysis, Document, Finished, House, Service, Setting, User, Warning } from '@element-plus/icons-vue'

export interface MenuItem {
  /** Route name to open (leaves) or a unique key (groups). */
  key: string
  titleKey: string
  icon?: Component
  permission?: string
  children?: MenuItem[]
}

export const MENU: readonly MenuItem[] = [
  { key: 'workbench', titleKey: 'menu.workbench', icon: House },
  {
    key: 'customers-group',
    titleKey: 'menu.customers',
    icon: User,
    permission: 'customer.read',
    children: [
      { key: 'customers', titleKey: 'menu.customerList', permission: 'customer.read' },
      { key: 'customer-new', titleKey: 'menu.customerNew', permission: 'customer.create' },
    ],
  },
  { key: 'churn-warnings', titleKey: 'churnMenu.warnings', icon: Warning, permission: 'customer.read' },
  { key: 'service-desk', titleKey: 'menu.serviceDesk', icon: Service, permission: 'ticket.create' },
  { key: 'approvals', titleKey: 'menu.approvals', icon: Finished },
  { key: 'analytics', titleKey: 'adminMenu.analytics', icon: DataAnalysis, permission: 'analytics.read' },
  { key: 'audit', titleKey: 'menu.audit', icon: Document, permission: 'audit.read' },
  {
    key: 'admin-group',
    titleKey: 'adminMenu.group',
    icon: Setting,
    children: [
      { key: 'admin-users', titleKey: 'adminMenu.users', permission: 'user.manage' },
      { key: 'admin-regions', titleKey: 'adminMenu.regions', permission: 'user.manage' },
      { key: 'admin-rules', titleKey: 'adminMenu.rules', permission: 'settings.manage' },
    ],
  },
]


/** The menu a user may see: items without the permission go, and so do groups left empty. */
export function visibleMenu(items: readonly MenuItem[], can: (permission?: string) => boolean): MenuItem[] {
  const result: MenuItem[] = []
  for (const item of items) {
    if (!can(item.permission)) continue
    if (item.children) {
      const children = visibleMenu(item.children, can)
      if (children.length) result.push({ ...item, children })
    } else {
      result.push(item)
    }
  }
  return result
}
