// Users by region and by team, from the users list, for the regions-and-teams page.
import type { components } from '@/api/schema'

export type UserOut = components['schemas']['UserOut']
type Region = components['schemas']['Region']

export const NO_TEAM = ''

export interface Membership {
  /** Users whose main region this is, then those who also cover it (extra regions). */
  byRegion: Record<string, { main: UserOut[]; extra: UserOut[] }>
  /** Team name → its members; users without a team under NO_TEAM. */
  byTeam: Record<string, UserOut[]>
  /** Team names, sorted the Chinese way. */
  teams: string[]
}

export function membership(users: readonly UserOut[], regions: readonly Region[]): Membership {
  const byRegion: Membership['byRegion'] = Object.fromEntries(regions.map((r) => [r, { main: [], extra: [] }]))
  const byTeam: Membership['byTeam'] = {}
  for (const user of users) {
    if (user.region && byRegion[user.region]) byRegion[user.region]!.main.push(user)
    for (const extra of user.extra_regions) {
      if (extra !== user.region && byRegion[extra]) byRegion[extra]!.extra.push(user)
    }
    const team = user.team ?? NO_TEAM
    ;(byTeam[team] ??= []).push(user)
  }
  const teams = Object.keys(byTeam)
    .filter((team) => team !== NO_TEAM)
    .sort((a, b) => a.localeCompare(b, 'zh-CN'))
  return { byRegion, byTeam, teams }
}

/** Team names to offer: the users' teams and the ones the rules already name. */
export function teamOptions(teams: readonly string[], named: readonly (string | null | undefined)[]): string[] {
  const all = new Set(teams)
  for (const team of named) if (team) all.add(team)
  return [...all].sort((a, b) => a.localeCompare(b, 'zh-CN'))
}

/** The PUT body for a user: only the fields that changed (null clears region and team). */
export function userChanges<T extends Record<string, unknown>>(before: T, after: T): Partial<T> {
  const changes: Partial<T> = {}
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null)) changes[key] = after[key]
  }
  return changes
}
