import { ref, type Ref } from 'vue'
import { latestOnly } from '@/utils/debounce'
import { errorMessage } from './errors'

/**
 * The loading flag and error message of what a component loads. Only the newest of overlapping
 * loads counts: an older answer (or failure) arriving late is dropped instead of overwriting the
 * newer one, and the flag stays on until the newest has answered.
 */
export function useLoader(initiallyLoading = false) {
  const loading = ref(initiallyLoading)
  const error = ref('')
  const latest = latestOnly((fetch: () => Promise<unknown>) => fetch())

  /** Run `fetch` and hand its value to `apply`; `failed` runs after a failure. True when applied. */
  async function run<T>(fetch: () => Promise<T>, apply: (value: T) => void, failed?: () => void): Promise<boolean> {
    loading.value = true
    error.value = ''
    try {
      const result = await latest(fetch)
      if (result.stale) return false
      apply(result.value as T)
      loading.value = false
      return true
    } catch (failure) {
      error.value = errorMessage(failure)
      failed?.()
      loading.value = false
      return false
    }
  }

  return { loading, error, run }
}

/** One page of a list as the API returns it. */
export interface ListPage<T> {
  items: T[]
  total: number
  total_exact?: boolean
}

/**
 * A paged list loaded with `useLoader`: its rows, total and whether the total is exact.
 * `clearOnFailure` empties the rows when a load fails (pages that derive more from the rows).
 */
export function usePagedLoader<T>(options: { clearOnFailure?: boolean } = {}) {
  const { loading, error, run } = useLoader()
  const rows = ref([]) as Ref<T[]>
  const total = ref(0)
  const totalExact = ref(true)

  function load(fetch: () => Promise<ListPage<T>>): Promise<boolean> {
    return run(
      fetch,
      (page) => {
        rows.value = page.items
        total.value = page.total
        totalExact.value = page.total_exact ?? true
      },
      options.clearOnFailure ? () => (rows.value = []) : undefined,
    )
  }

  return { loading, error, rows, total, totalExact, load }
}
