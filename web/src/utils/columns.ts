// The customer table's column chooser, remembered per browser in localStorage.

export const CUSTOMER_COLUMNS = [
  'customer_code',
  'customer_type',
  'customer_level',
  'customer_status',
  'industry',
  'region',
  'province',
  'owner',
  'acquisition_date',
  'last_contact_date',
  'annual_revenue',
  'tags',
  'created_at',
] as const
export type CustomerColumn = (typeof CUSTOMER_COLUMNS)[number]

export const DEFAULT_COLUMNS: readonly CustomerColumn[] = [
  'customer_code',
  'customer_level',
  'customer_status',
  'industry',
  'province',
  'owner',
  'acquisition_date',
  'tags',
]

const STORAGE_KEY = 'crm.customers.columns'

/** The saved choice, in table order; unknown names (from an older version) are dropped. */
export function loadColumns(storage: Pick<Storage, 'getItem'> = localStorage): CustomerColumn[] {
  let saved: unknown
  try {
    saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null')
  } catch {
    saved = null
  }
  if (!Array.isArray(saved)) return [...DEFAULT_COLUMNS]
  return CUSTOMER_COLUMNS.filter((c) => saved.includes(c))
}

export function saveColumns(columns: readonly string[], storage: Pick<Storage, 'setItem'> = localStorage): void {
  const ordered = CUSTOMER_COLUMNS.filter((c) => columns.includes(c))
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(ordered))
  } catch {
    // Private browsing or a full storage: the choice then lasts for this page only.
  }
}
