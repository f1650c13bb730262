// RFC 9457 problem documents as the API sends them, and what the UI makes of them.
import type { FieldError, Problem } from './types'

/** An answer that was not 2xx (status 0: the request did not reach the server). */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem
  readonly retryAfter: number | null

  constructor(status: number, problem: Problem, retryAfter: number | null = null) {
    super(problem.title)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
    this.retryAfter = retryAfter
  }

  get code(): string {
    return this.problem.code
  }
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Problem).title === 'string' &&
    typeof (value as Problem).code === 'string'
  )
}

/** The problem document in an error body, or a generic one when the body is not one (a proxy's HTML page). */
export function toProblem(body: unknown, status: number, fallbackTitle: string): Problem {
  if (isProblem(body)) return body
  return {
    type: 'about:blank',
    title: fallbackTitle,
    status,
    code: status === 0 ? 'network_error' : 'http_error',
    detail: null,
    instance: null,
    errors: null,
  }
}

export interface FormErrors {
  /** Message per form field (several messages for one field are joined). */
  fields: Record<string, string>
  /** Messages that name no field of this form, for an alert above it. */
  general: string[]
}

/**
 * Spread a 422's `errors[]` over a form's fields.
 *
 * `fields` are the form's props (dotted paths such as `contacts.0.contact_phone`); a server
 * field also matches a prop that is its prefix (`tags.2` → `tags`). `aliases` send a server
 * field to another prop, e.g. `province` and `city` to one cascader.
 */
export function formErrors(
  problem: Problem,
  fields: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): FormErrors {
  const known = new Set(fields)
  const result: FormErrors = { fields: {}, general: [] }
  const errors: FieldError[] = problem.errors ?? []
  for (const error of errors) {
    const prop = propFor(error.field, known, aliases)
    if (prop === null) {
      result.general.push(error.field && error.location === 'body' ? `${error.field}: ${error.message}` : error.message)
      continue
    }
    const previous = result.fields[prop]
    result.fields[prop] = previous && previous !== error.message ? `${previous}；${error.message}` : error.message
  }
  if (errors.length === 0) result.general.push(problem.title)
  return result
}

function propFor(field: string, known: Set<string>, aliases: Readonly<Record<string, string>>): string | null {
  const parts = field.split('.')
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('.')
    const alias = aliases[candidate]
    if (alias !== undefined) return alias
    if (known.has(candidate)) return candidate
  }
  return null
}
