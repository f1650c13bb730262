import { createI18n } from 'vue-i18n'
import adminEn from './admin.en'
import adminZh from './admin.zh-CN'
import churnEn from './churn.en'
import churnZh from './churn.zh-CN'
import en from './en'
import viewsEn from './views.en'
import viewsZh from './views.zh-CN'
import zhCN from './zh-CN'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: readonly Locale[] = ['zh-CN', 'en']
const STORAGE_KEY = 'crm.locale'

function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (saved === 'zh-CN' || saved === 'en') return saved
  } catch {
    // storage unavailable: fall through to the default
  }
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  // Each file owns its own top-level keys, so a shallow merge loses nothing.
  messages: {
    'zh-CN': { ...zhCN, ...adminZh, ...churnZh, ...viewsZh },
    en: { ...en, ...adminEn, ...churnEn, ...viewsEn },
  },
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    // the choice then lasts for this page only
  }
}
