import { createRouter, createWebHistory, type RouteLocationRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** Permission from /auth/me needed to open the page. */
    permission?: string
    /** i18n key of the page title. */
    titleKey?: string
  }
}

// Every screen is its own chunk, loaded when first opened.
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true, titleKey: 'login.title' } },
    // The satisfaction survey a customer opens from a link: no sign-in, no app shell.
    // The API's links are `/survey/<token>` (served although the JWT has dots); links sent
    // earlier carried the token as `?token=`, and those still open.
    {
      path: '/survey/:token?',
      name: 'survey',
      component: () => import('@/views/SurveyView.vue'),
      props: (route) => ({ token: String(route.params.token || route.query.token || '') }),
      meta: { public: true, titleKey: 'survey.title' },
    },
    {
      path: '/',
      component: () => import('@/layouts/AppLayout.vue'),
      children: [
        { path: '', redirect: { name: 'workbench' } },
        { path: 'workbench', name: 'workbench', component: () => import('@/views/WorkbenchView.vue'), meta: { titleKey: 'menu.workbench' } },
        {
          path: 'customers',
          name: 'customers',
          component: () => import('@/views/customers/CustomerListView.vue'),
          meta: { permission: 'customer.read', titleKey: 'menu.customerList' },
        },
        {
          path: 'customers/new',
          name: 'customer-new',
          component: () => import('@/views/customers/CustomerFormView.vue'),
          meta: { permission: 'customer.create', titleKey: 'form.newTitle' },
        },
        {
          path: 'customers/:id(\\d+)',
          name: 'customer',
          component: () => import('@/views/customers/CustomerDetailView.vue'),
          props: (route) => ({ id: Number(route.params.id) }),
          meta: { permission: 'customer.read', titleKey: 'menu.customers' },
        },
        {
          path: 'customers/:id(\\d+)/edit',
          name: 'customer-edit',
          component: () => import('@/views/customers/CustomerFormView.vue'),
          props: (route) => ({ id: Number(route.params.id) }),
          meta: { permission: 'customer.update', titleKey: 'form.editTitle' },
        },
        {
          path: 'churn-warnings',
          name: 'churn-warnings',
          component: () => import('@/views/churn/ChurnWarningsView.vue'),
          meta: { permission: 'customer.read', titleKey: 'churnMenu.warnings' },
        },
        {
          path: 'service-desk',
          name: 'service-desk',
          component: () => import('@/views/service/ServiceDeskView.vue'),
          meta: { permission: 'ticket.create', titleKey: 'menu.serviceDesk' },
        },
        {
          path: 'service-desk/:id(\\d+)',
          name: 'ticket',
          component: () => import('@/views/service/TicketDetailView.vue'),
          props: (route) => ({ id: Number(route.params.id) }),
          meta: { permission: 'ticket.create', titleKey: 'menu.serviceDesk' },
        },
        { path: 'approvals', name: 'approvals', component: () => import('@/views/approvals/ApprovalsView.vue'), meta: { titleKey: 'menu.approvals' } },
        {
          path: 'audit',
          name: 'audit',
          component: () => import('@/views/audit/AuditLogView.vue'),
          meta: { permission: 'audit.read', titleKey: 'menu.audit' },
        },
        {
          path: 'analytics',
          name: 'analytics',
          component: () => import('@/views/analytics/DashboardView.vue'),
          meta: { permission: 'analytics.read', titleKey: 'adminMenu.analytics' },
        },
        {
          path: 'admin/users',
          name: 'admin-users',
          component: () => import('@/views/admin/UsersView.vue'),
          meta: { permission: 'user.manage', titleKey: 'adminMenu.users' },
        },
        {
          path: 'admin/regions',
          name: 'admin-regions',
          component: () => import('@/views/admin/RegionsTeamsView.vue'),
          meta: { permission: 'user.manage', titleKey: 'adminMenu.regions' },
        },
        {
          path: 'admin/rules',
          name: 'admin-rules',
          component: () => import('@/views/admin/BusinessRulesView.vue'),
          meta: { permission: 'settings.manage', titleKey: 'adminMenu.rules' },
        },
        { path: 'forbidden', name: 'forbidden', component: () => import('@/views/ForbiddenView.vue'), meta: { titleKey: 'app.forbidden' } },
        { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { titleKey: 'app.notFound' } },
      ],
    },
  ],
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
})

/** Where to send someone who must sign in first, remembering where they were going. */
export function loginRoute(wanted: string, reason?: 'expired'): RouteLocationRaw {
  const query: Record<string, string> = {}
  if (wanted && wanted !== '/' && !wanted.startsWith('/login')) query.redirect = wanted
  if (reason) query.reason = reason
  return { name: 'login', query }
}

/** Only paths inside the app are followed after login (no open redirect to another site). */
export function safeRedirect(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/login')
    ? value
    : '/workbench'
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const auth = useAuthStore()
  if (!auth.isAuthenticated) return loginRoute(to.fullPath)
  if (!auth.me) {
    try {
      await auth.fetchMe()
    } catch {
      auth.clear()
      return loginRoute(to.fullPath, 'expired')
    }
  }
  if (to.meta.permission && !auth.can(to.meta.permission)) return { name: 'forbidden' }
  return true
})
