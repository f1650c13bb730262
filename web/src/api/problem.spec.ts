import { describe, expect, it } from 'vitest'
import { ApiError, formErrors, toProblem } from './problem'
import type { Problem } from './types'

const problem = (errors: Problem['errors']): Problem => ({
  type: 'urn:crm:problem:validation_failed',
  title: '请求参数校验失败',
  status: 422,
  code: 'validation_failed',
  detail: null,
  instance: '/api/v1/crm/customers',
  errors,
})

describe('formErrors', () => {
  it('puts each server message on its field, nested paths included', () => {
    const result = formErrors(
      problem([
        { field: 'customer_name', location: 'body', code: 'string_too_short', message: '长度不能少于 1 个字符' },
        { field: 'contacts.0.contact_phone', location: 'body', code: 'phone_invalid', message: '不是有效的号码' },
      ]),
      ['customer_name', 'contacts.0.contact_phone'],
    )
    expect(result.fields).toEqual({
      customer_name: '长度不能少于 1 个字符',
      'contacts.0.contact_phone': '不是有效的号码',
    })
    expect(result.general).toEqual([])
  })

  it('sends province and city to the cascader through aliases', () => {
    const result = formErrors(
      problem([{ field: 'province', location: 'body', code: 'province_unknown', message: '未知的省份：火星' }]),
      ['region'],
      { province: 'region', city: 'region' },
    )
    expect(result.fields).toEqual({ region: '未知的省份：火星' })
  })

  it('finds the closest field for an item of a list (tags.2 → tags) and joins messages', () => {
    const result = formErrors(
      problem([
        { field: 'tags.2', location: 'body', code: 'string_too_long', message: '最多 30 个字符' },
        { field: 'tags', location: 'body', code: 'too_long', message: '最多 30 个标签' },
      ]),
      ['tags'],
    )
    expect(result.fields).toEqual({ tags: '最多 30 个字符；最多 30 个标签' })
  })

  it('keeps errors of fields the form does not show for an alert', () => {
    const result = formErrors(
      problem([{ field: 'customer_code', location: 'body', code: 'duplicate', message: '编码已存在' }]),
      ['customer_name'],
    )
    expect(result.fields).toEqual({})
    expect(result.general).toEqual(['customer_code: 编码已存在'])
  })

  it('uses the title when a 422 names no field', () => {
    expect(formErrors(problem(null), ['customer_name']).general).toEqual(['请求参数校验失败'])
  })
})

describe('toProblem and ApiError', () => {
  it('keeps a problem document as it is', () => {
    const body = problem([])
    expect(toProblem(body, 422, 'fallback')).toBe(body)
  })
  it('makes a generic problem of anything else (a proxy page, no network)', () => {
    expect(toProblem('<html>', 502, '502 Bad Gateway')).toMatchObject({ title: '502 Bad Gateway', code: 'http_error' })
    expect(toProblem(null, 0, '无法连接服务器')).toMatchObject({ status: 0, code: 'network_error' })
  })
  it('carries status, code and Retry-After', () => {
    const error = new ApiError(429, { ...problem(null), status: 429, code: 'rate_limited', title: '请稍后再试' }, 60)
    expect(error.code).toBe('rate_limited')
    expect(error.message).toBe('请稍后再试')
    expect(error.retryAfter).toBe(60)
  })
})
