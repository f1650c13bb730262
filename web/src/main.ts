import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
// Element Plus components come on demand (vite.config.ts); these are called from code, not templates.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import App from './App.vue'
import { setSessionHooks } from './api/client'
import { currentLocale, i18n } from './i18n'
import { loginRoute, router } from './router'
import { useAuthStore } from './stores/auth'
import './styles.css'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
const auth = useAuthStore()

function sessionEnded(): void {
  const hadSession = auth.me !== null
  auth.clear()
  const current = router.currentRoute.value
  // During the first navigation the router guard sends the user to the login page itself.
  if (hadSession && current.name !== 'login') void router.replace(loginRoute(current.fullPath, 'expired'))
}

setSessionHooks({
  token: () => auth.token,
  language: () => currentLocale(),
  unauthorized: sessionEnded,
  networkErrorTitle: () => i18n.global.t('app.networkError'),
})

// Back to the login page when the token runs out, not at the next failed click.
let expiryTimer: ReturnType<typeof setTimeout> | undefined
watch(
  () => auth.expiresAt,
  () => {
    clearTimeout(expiryTimer)
    const left = auth.msUntilExpiry()
    // setTimeout cannot wait longer than ~24.8 days; tokens live hours.
    if (left !== null) expiryTimer = setTimeout(sessionEnded, Math.min(Math.max(left, 0), 2 ** 31 - 1))
  },
  { immediate: true },
)

document.documentElement.lang = currentLocale()
app.use(router)
app.mount('#app')
