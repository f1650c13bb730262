import { describe, expect, it } from 'vitest'
import { DEFAULT_COLUMNS, loadColumns, saveColumns } from './columns'

function memory(initial: Record<string, string> = {}) {
  const data = { ...initial }
  return {
    data,
    getItem: (key: string) => data[key] ?? null,
    setItem: (key: string, value: string) => {
      data[key] = value
    },
  }
}

describe('column chooser', () => {
  it('starts with the default columns', () => {
    expect(loadColumns(memory())).toEqual([...DEFAULT_COLUMNS])
  })
  it('remembers a choice in table order', () => {
    const storage = memory()
    saveColumns(['tags', 'customer_code'], storage)
    expect(loadColumns(storage)).toEqual(['customer_code', 'tags'])
  })
  it('drops names an older version saved and survives garbage', () => {
    expect(loadColumns(memory({ 'crm.customers.columns': '["owner","fax"]' }))).toEqual(['owner'])
    expect(loadColumns(memory({ 'crm.customers.columns': '{not json' }))).toEqual([...DEFAULT_COLUMNS])
  })
  it('an empty choice stays empty (only the name column shows)', () => {
    const storage = memory()
    saveColumns([], storage)
    expect(loadColumns(storage)).toEqual([])
  })
})
