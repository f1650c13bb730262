import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap } from '@/api/client'
import type { ServiceStaff } from '@/api/types'
import { useAuthStore } from './auth'

/**
 * Names for user ids. The API has no user directory everyone may read: administrators read
 * the users, service managers the service staff, sales managers the sales owners; everyone
 * else sees "user #id" except for themselves (see the report's API gaps).
 */
export const usePeopleStore = defineStore('people', () => {
  const names = ref<Record<number, string>>({})
  const staff = ref<ServiceStaff[] | null>(null)
  let loading: Promise<void> | null = null

  function remember(people: readonly { id: number; display_name: string }[]): void {
    names.value = { ...names.value, ...Object.fromEntries(people.map((p) => [p.id, p.display_name])) }
  }

  async function fetchAll(): Promise<void> {
    const auth = useAuthStore()
    if (auth.me) remember([auth.me])
    const asks: Promise<unknown>[] = []
    if (auth.can('user.manage')) {
      asks.push(
        unwrap(api.GET('/api/v1/crm/users', { params: { query: { page_size: 100 } } })).then((page) => remember(page.items)),
      )
    }
    if (auth.can('ticket.assign')) asks.push(loadStaff())
    if (auth.can('customer.assign')) {
      asks.push(unwrap(api.GET('/api/v1/crm/users/sales_owners')).then((owners) => remember(owners)))
    }
    // Names are a nicety: a failure leaves "user #id".
    await Promise.allSettled(asks)
  }

  /** Load the names the user may read, once per session. */
  function ensure(): Promise<void> {
    loading ??= fetchAll()
    return loading
  }

  /** The service staff with their current load, fresh (for the assignee picker). */
  async function loadStaff(): Promise<ServiceStaff[]> {
    const list = await unwrap(api.GET('/api/v1/crm/users/service_staff'))
    staff.value = list
    remember(list)
    return list
  }

  function nameOf(id: number | null | undefined): string | null {
    return id == null ? null : (names.value[id] ?? null)
  }

  function reset(): void {
    names.value = {}
    staff.value = null
    loading = null
  }

  return { names, staff, ensure, loadStaff, nameOf, remember, reset }
})
