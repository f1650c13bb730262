import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap } from '@/api/client'

/**
 * Customer names for lists that carry only `customer_id` (tickets, notifications). The API
 * has no lookup by many ids, so each unknown customer is read once and remembered; one that
 * cannot be read (out of scope) stays "#id".
 */
export const useCustomerNamesStore = defineStore('customerNames', () => {
  const names = ref<Record<number, string>>({})
  const asked = new Set<number>()

  async function ensure(ids: Iterable<number>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !asked.has(id))
    missing.forEach((id) => asked.add(id))
    // A few at a time: a page of tickets names at most a page of customers.
    for (let i = 0; i < missing.length; i += 6) {
      await Promise.allSettled(
        missing.slice(i, i + 6).map(async (id) => {
          const customer = await unwrap(api.GET('/api/v1/crm/customers/{customer_id}', { params: { path: { customer_id: id } } }))
          names.value = { ...names.value, [id]: customer.customer_name }
        }),
      )
    }
  }

  function remember(id: number, name: string): void {
    asked.add(id)
    names.value = { ...names.value, [id]: name }
  }

  function nameOf(id: number): string {
    return names.value[id] ?? `#${id}`
  }

  return { names, ensure, remember, nameOf }
})
