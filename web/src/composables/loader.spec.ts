import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/problem'
import { useLoader, usePagedLoader } from './loader'

/** A promise settled by hand, to make answers arrive in the order a test wants. */
function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('useLoader', () => {
  it('is loading while a load runs, and hands its value over', async () => {
    const loader = useLoader()
    const answer = deferred<number>()
    let got: number | null = null
    const done = loader.run(() => answer.promise, (v) => (got = v))
    expect(loader.loading.value).toBe(true)
    answer.resolve(7)
    expect(await done).toBe(true)
    expect(got).toBe(7)
    expect(loader.loading.value).toBe(false)
    expect(loader.error.value).toBe('')
  })

  it('starts loading when told (a card that loads on mount)', () => {
    expect(useLoader(true).loading.value).toBe(true)
    expect(useLoader().loading.value).toBe(false)
  })

  it('drops an older answer that arrives after a newer one, and stays loading until the newest', async () => {
    const loader = useLoader()
    const first = deferred<string>()
    const second = deferred<string>()
    const shown: string[] = []
    const a = loader.run(() => first.promise, (v) => shown.push(v))
    const b = loader.run(() => second.promise, (v) => shown.push(v))
    first.resolve('old')
    expect(await a).toBe(false)
    expect(shown).toEqual([])
    expect(loader.loading.value).toBe(true)
    second.resolve('new')
    expect(await b).toBe(true)
    expect(shown).toEqual(['new'])
    expect(loader.loading.value).toBe(false)
  })

  it('ignores an older failure, and keeps the newest answer when the older one comes last', async () => {
    const loader = useLoader()
    const first = deferred<string>()
    const second = deferred<string>()
    const shown: string[] = []
    const a = loader.run(() => first.promise, (v) => shown.push(v))
    const b = loader.run(() => second.promise, (v) => shown.push(v))
    second.resolve('new')
    await b
    first.reject(new Error('late failure'))
    expect(await a).toBe(false)
    expect(shown).toEqual(['new'])
    expect(loader.error.value).toBe('')
    expect(loader.loading.value).toBe(false)
  })

  it('shows the message of a failure, runs `failed`, and clears the message on the next load', async () => {
    const loader = useLoader()
    let failed = 0
    const problem = new ApiError(503, { type: 'about:blank', title: '服务暂不可用', status: 503, code: 'unavailable' })
    expect(await loader.run(() => Promise.reject(problem), () => undefined, () => failed++)).toBe(false)
    expect(loader.error.value).toBe('服务暂不可用')
    expect(failed).toBe(1)
    expect(loader.loading.value).toBe(false)
    const next = deferred<number>()
    const done = loader.run(() => next.promise, () => undefined)
    expect(loader.error.value).toBe('')
    next.resolve(1)
    await done
  })
})

describe('usePagedLoader', () => {
  it('takes the rows, total and exactness from a page (exact when the API does not say)', async () => {
    const list = usePagedLoader<{ id: number }>()
    await list.load(() => Promise.resolve({ items: [{ id: 1 }], total: 10001, total_exact: false }))
    expect(list.rows.value).toEqual([{ id: 1 }])
    expect(list.total.value).toBe(10001)
    expect(list.totalExact.value).toBe(false)
    await list.load(() => Promise.resolve({ items: [], total: 0 }))
    expect(list.totalExact.value).toBe(true)
  })

  it('keeps the rows after a failure unless told to clear them', async () => {
    const kept = usePagedLoader<number>()
    const cleared = usePagedLoader<number>({ clearOnFailure: true })
    for (const list of [kept, cleared]) {
      await list.load(() => Promise.resolve({ items: [1, 2], total: 2 }))
      await list.load(() => Promise.reject(new Error('network down')))
      expect(list.error.value).toBe('network down')
    }
    expect(kept.rows.value).toEqual([1, 2])
    expect(cleared.rows.value).toEqual([])
  })
})
