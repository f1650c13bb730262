// Dates, times and money as people in the chosen language read them.

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** 2026-11-25 14:03 in the browser's time zone. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return ''
  return iso.length >= 10 ? iso.slice(0, 10) : iso
}

/**
 * A decimal amount sent as text ("29165225.38") → "¥29,165,225.38", grouped without going
 * through a float, so large amounts keep every cent.
 */
export function formatMoney(amount: string | number | null | undefined, symbol = '¥'): string {
  if (amount === null || amount === undefined || amount === '') return ''
  const text = typeof amount === 'number' ? amount.toFixed(2) : amount.trim()
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (!match) return text
  const [, sign, whole = '0', fraction = ''] = match
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const cents = (fraction + '00').slice(0, 2)
  return `${sign}${symbol}${grouped}.${cents}`
}

/** Today as YYYY-MM-DD in the browser's time zone. */
export function today(now: Date = new Date()): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}
