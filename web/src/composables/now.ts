import { onBeforeUnmount, onMounted, ref } from 'vue'

/** The current time, refreshed every `ms` while the component lives (SLA countdowns). */
export function useNow(ms = 30_000) {
  const now = ref(Date.now())
  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => {
    timer = setInterval(() => (now.value = Date.now()), ms)
  })
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
