import { ref, watch, type Ref } from 'vue'
import { isNavigationFailure, NavigationFailureType, useRoute, useRouter, type LocationQuery, type LocationQueryRaw } from 'vue-router'
import type { Paging } from '@/utils/query'
import { usePagedLoader, type ListPage } from './loader'

export interface ListPageOptions<F extends Paging, T> {
  /** The filters a URL carries; anything malformed is dropped (see utils/query.ts). */
  fromQuery: (query: LocationQuery) => F
  /** The URL of the filters, without the defaults. */
  toQuery: (filters: F) => LocationQueryRaw
  /** One page of rows for the filters. */
  fetch: (filters: F) => Promise<ListPage<T>>
  /** Empty the rows when a load fails (pages that derive more from the rows). */
  clearOnFailure?: boolean
  /** Query parameters that are not filters (an open drawer) and outlive a search. */
  extraQuery?: () => LocationQueryRaw
}

/**
 * A list screen: filters bound to the URL query, so that back/forward and a shared link restore
 * the same filters and page; the rows of the current URL with their loading and error states; the
 * rows selected for a bulk action. `filters` is the form being edited: it reaches the URL (and the
 * API) on `search()`, which starts again at page 1, since page 5 of other filters means nothing.
 */
export function useListPage<F extends Paging, T>(options: ListPageOptions<F, T>) {
  const route = useRoute()
  const router = useRouter()
  const routeName = route.name
  const { rows, total, totalExact, loading, error, load } = usePagedLoader<T>({ clearOnFailure: options.clearOnFailure })
  /** What the rows show (the URL's filters). */
  const applied = ref(options.fromQuery(route.query)) as Ref<F>
  /** The filter form; may differ from `applied` until `search()`. */
  const filters = ref(options.fromQuery(route.query)) as Ref<F>
  const selection = ref([]) as Ref<T[]>

  function reload(): Promise<boolean> {
    selection.value = []
    return load(() => options.fetch(applied.value))
  }

  /** Puts the filters in the URL; the route watcher loads them. The same URL again reloads. */
  async function go(next: F): Promise<void> {
    const failure = await router.push({ query: { ...options.toQuery(next), ...options.extraQuery?.() } })
    if (isNavigationFailure(failure, NavigationFailureType.duplicated)) await reload()
  }

  /** Applies the form (with `patch`, when given) from page 1. */
  function search(patch: Partial<F> = {}): Promise<void> {
    filters.value = { ...filters.value, ...patch, page: 1 }
    return go(filters.value)
  }

  /** Back to the defaults: the filters of a URL without a query. */
  function reset(): Promise<void> {
    filters.value = options.fromQuery({})
    return go(filters.value)
  }

  function setPage(page: number): Promise<void> {
    return go({ ...applied.value, page })
  }

  function setPageSize(pageSize: number): Promise<void> {
    return go({ ...applied.value, page: 1, pageSize })
  }

  // The URL is the source of truth: a search, a page, back/forward or an edited link all land
  // here. Only the list's own parameters count: opening a drawer (?warning=) keeps the rows.
  watch(
    () => JSON.stringify(options.toQuery(options.fromQuery(route.query))),
    () => {
      if (route.name !== routeName) return // leaving the page: its rows no longer matter
      applied.value = options.fromQuery(route.query)
      filters.value = options.fromQuery(route.query)
      void reload()
    },
  )
  void reload()

  return { filters, applied, rows, total, totalExact, loading, error, selection, search, reset, reload, setPage, setPageSize }
}

export type ListPageState<T = unknown> = Pick<
  ReturnType<typeof useListPage<Paging, T>>,
  'applied' | 'rows' | 'total' | 'totalExact' | 'loading' | 'error' | 'selection' | 'reload' | 'setPage' | 'setPageSize'
>
