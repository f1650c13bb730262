import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap } from '@/api/client'
import type { Notification } from '@/api/types'

const POLL_MS = 60_000

/** The signed-in user's notifications: the unread count for the top bar and the latest few. */
export const useNotificationsStore = defineStore('notifications', () => {
  const unread = ref(0)
  const latest = ref<Notification[]>([])
  const loading = ref(false)
  const error = ref('')
  let timer: ReturnType<typeof setInterval> | undefined

  async function refresh(): Promise<void> {
    loading.value = true
    try {
      const [page, unreadPage] = await Promise.all([
        unwrap(api.GET('/api/v1/crm/notifications', { params: { query: { page_size: 8 } } })),
        unwrap(api.GET('/api/v1/crm/notifications', { params: { query: { unread: true, page_size: 1 } } })),
      ])
      latest.value = page.items
      unread.value = unreadPage.total
      error.value = ''
    } catch (failure) {
      error.value = failure instanceof Error ? failure.message : String(failure)
    } finally {
      loading.value = false
    }
  }

  async function markRead(ids?: number[]): Promise<void> {
    const answer = await unwrap(api.POST('/api/v1/crm/notifications/read', { body: ids ? { ids } : {} }))
    unread.value = answer.unread ?? 0
    const stamp = new Date().toISOString()
    latest.value = latest.value.map((n) => (!ids || ids.includes(n.id) ? { ...n, read_at: n.read_at ?? stamp } : n))
  }

  function start(): void {
    stop()
    void refresh()
    timer = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh()
    }, POLL_MS)
  }

  function stop(): void {
    clearInterval(timer)
    timer = undefined
  }

  return { unread, latest, loading, error, refresh, markRead, start, stop }
})
