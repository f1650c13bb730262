// The API masks personal data in every answer (138****1234, z***@example.com, ****-07-09);
// the UI shows what it got and offers a reveal, one value at a time, where the role may.

/** True when the API sent this value masked. */
export function isMasked(value: string | null | undefined): boolean {
  return typeof value === 'string' && value.includes('*')
}

/** A revealed or typed phone number, grouped for reading: 138 1234 5678, 0755-8888 6666. */
export function formatPhone(value: string | null | undefined): string {
  if (!value) return ''
  if (isMasked(value)) return value
  const digits = value.replace(/[\s-]/g, '')
  if (/^1\d{10}$/.test(digits)) return `${digits.slice(0, 3)} ${digits.slice(3, 7)} ${digits.slice(7)}`
  const landline = /^(0\d{2,3})-?(\d{7,8})$/.exec(digits)
  if (landline) {
    const [, area, number] = landline as unknown as [string, string, string]
    return `${area}-${number.slice(0, number.length - 4)} ${number.slice(-4)}`
  }
  return value
}

/** The masked, non-empty fields of a record among `fields`: those a reveal button is offered for. */
export function revealable<T extends object, K extends keyof T & string>(record: T, fields: readonly K[]): K[] {
  return fields.filter((field) => {
    const value = record[field]
    return typeof value === 'string' && isMasked(value)
  })
}

/** Revealed values, kept per record and field while the page is open (never stored). */
export class RevealedValues {
  private values = new Map<string, string | null>()

  private static key(kind: string, id: number, field: string): string {
    return `${kind}:${id}:${field}`
  }

  has(kind: string, id: number, field: string): boolean {
    return this.values.has(RevealedValues.key(kind, id, field))
  }

  get(kind: string, id: number, field: string): string | null | undefined {
    return this.values.get(RevealedValues.key(kind, id, field))
  }

  set(kind: string, id: number, field: string, value: string | null): void {
    this.values.set(RevealedValues.key(kind, id, field), value)
  }

  /** What to display: the revealed value if there is one, else what the API sent. */
  show(kind: string, id: number, field: string, sent: string | null | undefined): string {
    const key = RevealedValues.key(kind, id, field)
    const value = this.values.has(key) ? this.values.get(key) : sent
    return value ?? ''
  }

  clear(): void {
    this.values.clear()
  }
}
