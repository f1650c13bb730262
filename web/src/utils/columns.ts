// A list's column chooser, remembered per page and browser in localStorage.

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

type ColumnStorage = Pick<Storage, 'getItem' | 'setItem'>

/** The chosen columns of one list (`crm.<list>.columns`), always in table order. */
export function columnStore<C extends string>(list: string, all: readonly C[], defaults: readonly C[]) {
  const key = `crm.${list}.columns`
  return {
    /** The saved choice; unknown names (from an older version) are dropped. */
    load(storage: Pick<Storage, 'getItem'> = localStorage): C[] {
      let saved: unknown
      try {
        saved = JSON.parse(storage.getItem(key) ?? 'null')
      } catch {
        saved = null
      }
      if (!Array.isArray(saved)) return [...defaults]
      return all.filter((c) => saved.includes(c))
    },
    save(columns: readonly string[], storage: Pick<ColumnStorage, 'setItem'> = localStorage): void {
      try {
        storage.setItem(key, JSON.stringify(all.filter((c) => columns.includes(c))))
      } catch {
        // Private browsing or a full storage: the choice then lasts for this page only.
      }
    },
  }
}

const customerColumns = columnStore('customers', CUSTOMER_COLUMNS, DEFAULT_COLUMNS)
export const loadColumns = customerColumns.load
export const saveColumns = customerColumns.save
