import { reactive } from 'vue'
import { ApiError, formErrors } from '@/api/problem'

/** A message to show for any failure (the API's own message when there is one). */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const retry = error.retryAfter ? ` (${error.retryAfter}s)` : ''
    return `${error.problem.title}${retry}`
  }
  return error instanceof Error ? error.message : String(error)
}

/** Server validation messages for one form: `fields[prop]` goes to el-form-item's `error`. */
export function useFormErrors(props: readonly string[], aliases: Readonly<Record<string, string>> = {}) {
  const state = reactive({ fields: {} as Record<string, string>, general: [] as string[] })

  function clear(): void {
    state.fields = {}
    state.general = []
  }

  /** Take a 422 apart onto the fields; true when it was one (other errors are the caller's). */
  function apply(error: unknown): boolean {
    if (!(error instanceof ApiError) || error.status !== 422) return false
    const mapped = formErrors(error.problem, props, aliases)
    state.fields = mapped.fields
    state.general = mapped.general
    return true
  }

  function clearField(prop: string): void {
    if (prop in state.fields) {
      const { [prop]: _removed, ...rest } = state.fields
      state.fields = rest
    }
  }

  return { state, clear, apply, clearField }
}
