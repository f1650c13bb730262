// The typed API client: openapi-fetch over the generated spec types (schema.d.ts).
import createClient, { type Middleware } from 'openapi-fetch'
import { ApiError, toProblem } from './problem'
import type { paths } from './schema'

export type { paths }

/** What the client needs from the session; set by the auth store (no import cycle). */
export interface SessionHooks {
  token(): string | null
  language(): string
  unauthorized(): void
  networkErrorTitle(): string
}

let hooks: SessionHooks = {
  token: () => null,
  language: () => 'zh-CN',
  unauthorized: () => undefined,
  networkErrorTitle: () => 'Network error',
}

export function setSessionHooks(value: SessionHooks): void {
  hooks = value
}

const session: Middleware = {
  onRequest({ request }) {
    const token = hooks.token()
    if (token) request.headers.set('Authorization', `Bearer ${token}`)
    request.headers.set('Accept-Language', hooks.language())
    return request
  },
  onResponse({ request, response }) {
    // A 401 anywhere but the login form means the token expired or was revoked.
    if (response.status === 401 && !new URL(request.url, location.href).pathname.endsWith('/auth/login')) {
      hooks.unauthorized()
    }
    return response
  },
}

export const api = createClient<paths>({ baseUrl: location.origin })
api.use(session)

interface FetchResult<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The data of a 2xx answer with its status (202 means "sent for approval"); throws ApiError otherwise. */
export async function send<T>(request: Promise<FetchResult<T>>): Promise<{ data: T; status: number }> {
  let result: FetchResult<T>
  try {
    result = await request
  } catch {
    throw new ApiError(0, toProblem(null, 0, hooks.networkErrorTitle()))
  }
  const { data, error, response } = result
  if (!response.ok) {
    const retry = Number(response.headers.get('Retry-After'))
    throw new ApiError(
      response.status,
      toProblem(error, response.status, `${response.status} ${response.statusText}`),
      Number.isFinite(retry) && retry > 0 ? retry : null,
    )
  }
  return { data: data as T, status: response.status }
}

/** The data of a 2xx answer; throws ApiError otherwise. */
export async function unwrap<T>(request: Promise<FetchResult<T>>): Promise<T> {
  return (await send(request)).data
}

/** A file download through the API with the session's token (exports). */
export async function download(path: string, query: URLSearchParams, fallbackName: string): Promise<void> {
  const headers: Record<string, string> = { 'Accept-Language': hooks.language() }
  const token = hooks.token()
  if (token) headers.Authorization = `Bearer ${token}`
  let response: Response
  try {
    response = await fetch(`${path}?${query.toString()}`, { headers })
  } catch {
    throw new ApiError(0, toProblem(null, 0, hooks.networkErrorTitle()))
  }
  if (!response.ok) {
    if (response.status === 401) hooks.unauthorized()
    const body: unknown = await response.json().catch(() => null)
    const retry = Number(response.headers.get('Retry-After'))
    throw new ApiError(
      response.status,
      toProblem(body, response.status, `${response.status} ${response.statusText}`),
      Number.isFinite(retry) && retry > 0 ? retry : null,
    )
  }
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="([^"]+)"/i.exec(disposition)?.[1]
  const blob = await response.blob()
  const link = document.createElement('a')
  link.href = URL.createObjectURL(blob)
  link.download = name ? decodeURIComponent(name) : fallbackName
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 1000)
}
