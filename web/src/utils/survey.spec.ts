import { describe, expect, it } from 'vitest'
import { surveyLink } from './survey'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMSJ9.Oj_qf9B1fAj9i6Ey9l3y'

describe('survey links', () => {
  it('are the API’s link as it is, dots and all', () => {
    expect(surveyLink(`https://crm.example.com/survey/${TOKEN}`)).toBe(`https://crm.example.com/survey/${TOKEN}`)
    expect(surveyLink(`https://example.com/crm/survey/${TOKEN}`)).toBe(`https://example.com/crm/survey/${TOKEN}`)
  })

  it('resolve a relative link against the origin', () => {
    expect(surveyLink(`/survey/${TOKEN}`, 'http://127.0.0.1:8000')).toBe(`http://127.0.0.1:8000/survey/${TOKEN}`)
  })
})
