import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { debounce, latestOnly } from './debounce'

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('runs once, with the last arguments, after the pause', () => {
    const fn = vi.fn()
    const typed = debounce(fn, 300)
    typed('华')
    vi.advanceTimersByTime(200)
    typed('华为')
    vi.advanceTimersByTime(299)
    expect(fn).not.toHaveBeenCalled()
    expect(typed.pending).toBe(true)
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenCalledWith('华为')
    expect(typed.pending).toBe(false)
  })

  it('flush runs a pending call at once (Enter in the search box)', () => {
    const fn = vi.fn()
    const typed = debounce(fn, 300)
    typed('科技')
    typed.flush()
    expect(fn).toHaveBeenCalledWith('科技')
    vi.advanceTimersByTime(1000)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('flush does nothing when nothing is pending', () => {
    const fn = vi.fn()
    debounce(fn, 300).flush()
    expect(fn).not.toHaveBeenCalled()
  })

  it('cancel drops the pending call (leaving the page)', () => {
    const fn = vi.fn()
    const typed = debounce(fn, 300)
    typed('x')
    typed.cancel()
    vi.advanceTimersByTime(1000)
    expect(fn).not.toHaveBeenCalled()
  })
})

describe('latestOnly', () => {
  function deferred<T>() {
    let resolve!: (value: T) => void
    let reject!: (error: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }

  it('drops an older answer that arrives after a newer one', async () => {
    const slow = deferred<string>()
    const fast = deferred<string>()
    const fetch = latestOnly((which: 'slow' | 'fast') => (which === 'slow' ? slow.promise : fast.promise))
    const first = fetch('slow')
    const second = fetch('fast')
    fast.resolve('华为')
    slow.resolve('华')
    expect(await second).toEqual({ stale: false, value: '华为' })
    expect(await first).toEqual({ stale: true })
  })

  it("ignores an older request's failure and reports the newest one's", async () => {
    const old = deferred<string>()
    const fetch = latestOnly((n: number) => (n === 1 ? old.promise : Promise.reject(new Error('down'))))
    const first = fetch(1)
    const second = fetch(2)
    old.reject(new Error('timeout'))
    expect(await first).toEqual({ stale: true })
    await expect(second).rejects.toThrow('down')
  })
})
