import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, unwrap } from '@/api/client'
import type { Me } from '@/api/types'

const STORAGE_KEY = 'crm.session'
const TENANT_KEY = 'crm.tenant'

interface StoredSession {
  token: string
  expiresAt: string
}

function readStored(): StoredSession | null {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null')
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as StoredSession).token === 'string' &&
      typeof (value as StoredSession).expiresAt === 'string' &&
      Date.parse((value as StoredSession).expiresAt) > Date.now()
    ) {
      return value as StoredSession
    }
  } catch {
    // unreadable: start signed out
  }
  return null
}

/** The signed-in user: token (kept in localStorage until it expires), profile and permissions. */
export const useAuthStore = defineStore('auth', () => {
  const stored = readStored()
  const token = ref<string | null>(stored?.token ?? null)
  const expiresAt = ref<string | null>(stored?.expiresAt ?? null)
  const me = ref<Me | null>(null)

  const isAuthenticated = computed(() => token.value !== null)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))

  function can(permission: string | undefined): boolean {
    return permission === undefined || permissions.value.has(permission)
  }

  function remember(value: StoredSession | null): void {
    try {
      if (value) localStorage.setItem(STORAGE_KEY, JSON.stringify(value))
      else localStorage.removeItem(STORAGE_KEY)
    } catch {
      // the session then lasts for this page only
    }
  }

  /** The company code of the last sign-in that needed one, to fill the login form with. */
  function lastTenant(): string {
    try {
      return localStorage.getItem(TENANT_KEY) ?? ''
    } catch {
      return ''
    }
  }

  /** tenant: the company code, needed only when another company uses the same user name. */
  async function login(username: string, password: string, tenant = ''): Promise<void> {
    const answer = await unwrap(
      api.POST('/api/v1/auth/login', {
        body: { username, password, scope: '', ...(tenant ? { tenant } : {}) },
        bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    )
    token.value = answer.access_token
    expiresAt.value = answer.expires_at
    remember({ token: answer.access_token, expiresAt: answer.expires_at })
    try {
      if (tenant) localStorage.setItem(TENANT_KEY, tenant)
      else localStorage.removeItem(TENANT_KEY)
    } catch {
      // not remembered: typed again next time
    }
    me.value = null
    await fetchMe()
  }

  async function fetchMe(): Promise<Me> {
    const profile = await unwrap(api.GET('/api/v1/auth/me'))
    me.value = profile
    return profile
  }

  /** Forget the session locally (expired, revoked, or after logout). */
  function clear(): void {
    token.value = null
    expiresAt.value = null
    me.value = null
    remember(null)
  }

  async function logout(): Promise<void> {
    try {
      if (token.value) await unwrap(api.POST('/api/v1/auth/logout'))
    } catch {
      // The token is forgotten here either way; the server revokes it when it can.
    } finally {
      clear()
    }
  }

  /** Milliseconds until the token expires (null when signed out). */
  function msUntilExpiry(): number | null {
    return expiresAt.value ? Date.parse(expiresAt.value) - Date.now() : null
  }

  return { token, expiresAt, me, isAuthenticated, can, lastTenant, login, fetchMe, clear, logout, msUntilExpiry }
})
