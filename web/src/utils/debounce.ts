/** A debounced function: runs `fn` once `wait` ms after the last call, with the last arguments. */
export interface Debounced<A extends unknown[]> {
  (...args: A): void
  cancel(): void
  /** Run a pending call now. */
  flush(): void
  readonly pending: boolean
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, wait: number): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | null = null
  let lastArgs: A | null = null

  const run = () => {
    timer = null
    const args = lastArgs
    lastArgs = null
    if (args) fn(...args)
  }
  const debounced = ((...args: A) => {
    lastArgs = args
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(run, wait)
  }) as Debounced<A>
  debounced.cancel = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    lastArgs = null
  }
  debounced.flush = () => {
    if (timer !== null) {
      clearTimeout(timer)
      run()
    }
  }
  Object.defineProperty(debounced, 'pending', { get: () => timer !== null })
  return debounced
}

/**
 * Keeps only the newest of overlapping requests: an older answer arriving after a newer one
 * (search-as-you-type on a slow network) is dropped instead of overwriting the table.
 */
export function latestOnly<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<{ stale: true } | { stale: false; value: R }> {
  let sequence = 0
  return async (...args: A) => {
    const mine = ++sequence
    try {
      const value = await fn(...args)
      return mine === sequence ? { stale: false, value } : { stale: true }
    } catch (error) {
      // An older request's failure is as irrelevant as its answer.
      if (mine !== sequence) return { stale: true }
      throw error
    }
  }
}
