import { describe, expect, it } from 'vitest'
import { RevealedValues, formatPhone, isMasked, revealable } from './masking'

describe('isMasked', () => {
  it('recognises the API masks', () => {
    expect(isMasked('138****1234')).toBe(true)
    expect(isMasked('z***@example.com')).toBe(true)
    expect(isMasked('****-07-09')).toBe(true)
  })
  it('treats plain and empty values as not masked', () => {
    expect(isMasked('13812341234')).toBe(false)
    expect(isMasked(null)).toBe(false)
    expect(isMasked(undefined)).toBe(false)
    expect(isMasked('')).toBe(false)
  })
})

describe('formatPhone', () => {
  it('groups a mobile number 3-4-4', () => {
    expect(formatPhone('13812345678')).toBe('138 1234 5678')
  })
  it('keeps the area code of a landline and groups the last four digits', () => {
    expect(formatPhone('0755-88886666')).toBe('0755-8888 6666')
    expect(formatPhone('010-1234567')).toBe('010-123 4567')
  })
  it('leaves masked values exactly as the API sent them', () => {
    expect(formatPhone('138****1234')).toBe('138****1234')
  })
  it('leaves anything else alone', () => {
    expect(formatPhone('+1 650 555 0100')).toBe('+1 650 555 0100')
    expect(formatPhone(null)).toBe('')
  })
})

describe('revealable', () => {
  it('lists the masked, non-empty fields only', () => {
    const contact = { contact_phone: '138****1234', contact_email: null, contact_wechat: 'wx_plain', birthday: '****-07-09' }
    expect(revealable(contact, ['contact_phone', 'contact_email', 'contact_wechat', 'birthday'])).toEqual([
      'contact_phone',
      'birthday',
    ])
  })
})

describe('RevealedValues', () => {
  it('shows the revealed value once there is one, else what was sent', () => {
    const values = new RevealedValues()
    expect(values.show('contact', 1, 'contact_phone', '138****1234')).toBe('138****1234')
    values.set('contact', 1, 'contact_phone', '13812341234')
    expect(values.show('contact', 1, 'contact_phone', '138****1234')).toBe('13812341234')
    // Another record's field is untouched.
    expect(values.show('contact', 2, 'contact_phone', '139****0000')).toBe('139****0000')
  })
  it('keeps a revealed null (the value was removed meanwhile)', () => {
    const values = new RevealedValues()
    values.set('address', 3, 'detailed_address', null)
    expect(values.has('address', 3, 'detailed_address')).toBe(true)
    expect(values.show('address', 3, 'detailed_address', '人民路****')).toBe('')
    values.clear()
    expect(values.has('address', 3, 'detailed_address')).toBe(false)
  })
})
