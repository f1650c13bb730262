import { describe, expect, it } from 'vitest'
import { surveyLink } from './survey'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMSJ9.Oj_qf9B1fAj9i6Ey9l3y'

describe('survey links', () => {
  it('carry the token in the query, where its dots do not look like a file name', () => {
    expect(surveyLink(`https://crm.example.com/survey/${TOKEN}`)).toBe(`https://crm.example.com/survey?token=${TOKEN}`)
  })

  it('keep a base path and resolve a relative link against the origin', () => {
    expect(surveyLink(`https://example.com/crm/survey/${TOKEN}`)).toBe(`https://example.com/crm/survey?token=${TOKEN}`)
    expect(surveyLink(`/survey/${TOKEN}`, 'http://127.0.0.1:8000')).toBe(`http://127.0.0.1:8000/survey?token=${TOKEN}`)
  })

  it('leave other links alone', () => {
    expect(surveyLink('https://example.com/other')).toBe('https://example.com/other')
  })
})
