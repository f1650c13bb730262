import { afterEach, describe, expect, it } from 'vitest'
import { createApp, defineComponent, h, nextTick } from 'vue'
import { createMemoryHistory, createRouter, RouterView, type LocationQuery, type LocationQueryRaw, type Router } from 'vue-router'
import { ApiError } from '@/api/problem'
import { first, pagingFromQuery, pagingToQuery, type Paging } from '@/utils/query'
import type { ListPage } from './loader'
import { useListPage } from './listPage'

interface Filters extends Paging {
  q: string
}

const fromQuery = (query: LocationQuery): Filters => ({ q: first(query.q) ?? '', ...pagingFromQuery(query) })
const toQuery = (f: Filters): LocationQueryRaw => pagingToQuery(f, f.q ? { q: f.q } : {})

/** Waits for the router and the loads it set off. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0))
    await nextTick()
  }
}

const apps: { unmount(): void }[] = []
afterEach(() => apps.splice(0).forEach((app) => app.unmount()))

/** A list page on a router at `url`; `answer` decides what each fetch returns. */
async function mountList(url: string, answer: (f: Filters) => Promise<ListPage<string>>) {
  const fetched: Filters[] = []
  let list!: ReturnType<typeof useListPage<Filters, string>>
  const Page = defineComponent({
    setup() {
      list = useListPage<Filters, string>({
        fromQuery,
        toQuery,
        fetch: (f) => {
          fetched.push({ ...f })
          return answer(f)
        },
      })
      return () => h('div')
    },
  })
  const router: Router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/list', name: 'list', component: Page },
      { path: '/other', name: 'other', component: { render: () => h('p') } },
    ],
  })
  await router.push(url)
  const app = createApp({ render: () => h(RouterView) })
  app.use(router)
  app.mount(document.createElement('div'))
  apps.push(app)
  await settle()
  return { list, router, fetched }
}

const rows = (f: Filters): Promise<ListPage<string>> =>
  Promise.resolve({ items: [`${f.q || 'all'} p${f.page}`], total: 100 })

describe('useListPage', () => {
  it('loads the filters and page a shared link carries', async () => {
    const { list, fetched } = await mountList('/list?q=华为&page=3&size=50', rows)
    expect(fetched).toEqual([{ q: '华为', page: 3, pageSize: 50 }])
    expect(list.filters.value.q).toBe('华为')
    expect(list.rows.value).toEqual(['华为 p3'])
    expect(list.total.value).toBe(100)
  })

  it('puts a search in the URL, from page 1 again', async () => {
    const { list, router, fetched } = await mountList('/list?page=4', rows)
    list.filters.value.q = '阿里'
    await list.search()
    await settle()
    expect(router.currentRoute.value.fullPath).toBe(`/list?q=${encodeURIComponent('阿里')}`)
    expect(fetched.at(-1)).toEqual({ q: '阿里', page: 1, pageSize: 20 })
    expect(list.rows.value).toEqual(['阿里 p1'])
  })

  it('keeps the filters when paging, and starts again at page 1 with another page size', async () => {
    const { list, router, fetched } = await mountList('/list?q=x', rows)
    await list.setPage(2)
    await settle()
    expect(router.currentRoute.value.query).toEqual({ q: 'x', page: '2' })
    await list.setPageSize(50)
    await settle()
    expect(router.currentRoute.value.query).toEqual({ q: 'x', size: '50' })
    expect(fetched.at(-1)).toEqual({ q: 'x', page: 1, pageSize: 50 })
  })

  it('applies only what was searched: an edited form does not change the pages', async () => {
    const { list, router } = await mountList('/list?q=a', rows)
    list.filters.value.q = 'not searched yet'
    await list.setPage(2)
    await settle()
    expect(router.currentRoute.value.query).toEqual({ q: 'a', page: '2' })
  })

  it('restores the earlier filters and page on back', async () => {
    const { list, router } = await mountList('/list', rows)
    list.filters.value.q = 'one'
    await list.search()
    await settle()
    await list.setPage(5)
    await settle()
    router.back()
    await settle()
    expect(list.applied.value).toEqual({ q: 'one', page: 1, pageSize: 20 })
    expect(list.filters.value.q).toBe('one')
    expect(list.rows.value).toEqual(['one p1'])
  })

  it('reloads when the same search is made again', async () => {
    const { list, fetched } = await mountList('/list?q=z', rows)
    await list.search()
    await settle()
    expect(fetched).toHaveLength(2)
  })

  it('resets to a plain URL', async () => {
    const { list, router } = await mountList('/list?q=z&page=2', rows)
    await list.reset()
    await settle()
    expect(router.currentRoute.value.fullPath).toBe('/list')
    expect(list.filters.value).toEqual({ q: '', page: 1, pageSize: 20 })
  })

  it('shows the failure, then the rows again after a retry', async () => {
    let fail = true
    const { list } = await mountList('/list', (f) =>
      fail ? Promise.reject(new ApiError(500, { type: 'about:blank', code: 'internal', title: '服务器开小差了', status: 500 })) : rows(f),
    )
    expect(list.error.value).toContain('服务器开小差了')
    expect(list.loading.value).toBe(false)
    fail = false
    await list.reload()
    expect(list.error.value).toBe('')
    expect(list.rows.value).toEqual(['all p1'])
  })

  it('clears the selection when other rows load', async () => {
    const { list } = await mountList('/list', rows)
    list.selection.value = ['all p1']
    await list.setPage(2)
    await settle()
    expect(list.selection.value).toEqual([])
  })

  it('keeps the rows when only a parameter that is not a filter changes (an open drawer)', async () => {
    const { router, fetched } = await mountList('/list?q=a', rows)
    await router.replace('/list?q=a&warning=7')
    await settle()
    expect(fetched).toHaveLength(1)
  })

  it('does not load again when leaving the page', async () => {
    const { router, fetched } = await mountList('/list', rows)
    await router.push('/other?q=elsewhere')
    await settle()
    expect(fetched).toHaveLength(1)
  })
})
