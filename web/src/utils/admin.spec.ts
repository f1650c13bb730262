import { describe, expect, it } from 'vitest'
import { membership, teamOptions, userChanges, type UserOut } from './admin'

function user(id: number, fields: Partial<UserOut>): UserOut {
  return {
    id,
    username: `u${id}`,
    display_name: `用户${id}`,
    role: 'service_agent',
    region: null,
    extra_regions: [],
    team: null,
    service_capacity: null,
    is_active: true,
    last_login_at: null,
    created_at: '2026-01-01T00:00:00Z',
    ...fields,
  }
}

describe('membership', () => {
  it('lists main and extra regions and teams', () => {
    const users = [
      user(1, { region: '华东', team: '一组' }),
      user(2, { region: '华南', extra_regions: ['华东', '华南'], team: '二组' }),
      user(3, {}),
    ]
    const m = membership(users, ['华东', '华南', '华北'])
    expect(m.byRegion['华东']!.main.map((u) => u.id)).toEqual([1])
    expect(m.byRegion['华东']!.extra.map((u) => u.id)).toEqual([2])
    expect(m.byRegion['华南']!.extra).toEqual([])
    expect(m.byRegion['华北']!.main).toEqual([])
    expect(m.teams).toEqual(['一组', '二组'].sort((a, b) => a.localeCompare(b, 'zh-CN')))
    expect(m.byTeam['']!.map((u) => u.id)).toEqual([3])
  })
  it('offers the teams the rules name even when nobody is in them', () => {
    expect(teamOptions(['一组'], ['VIP组', null, '一组'])).toEqual(['VIP组', '一组'].sort((a, b) => a.localeCompare(b, 'zh-CN')))
  })
})

describe('user changes', () => {
  it('sends only what changed, null to clear', () => {
    expect(userChanges({ role: 'sales', team: '一组', region: '华东' }, { role: 'sales', team: null, region: '华东' })).toEqual({
      team: null,
    })
  })
})
