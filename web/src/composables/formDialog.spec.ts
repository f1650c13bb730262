import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h, nextTick, ref, type Ref } from 'vue'
import { ApiError } from '@/api/problem'
import { formBody, useFormDialog, type FormDialogOptions } from './formDialog'

const message = vi.hoisted(() => ({ error: vi.fn() }))
vi.mock('element-plus', () => ({ ElMessage: message }))

/** A stand-in for el-form: `valid` decides what validate() answers. */
function fakeForm(valid: Ref<boolean>, cleared: { n: number }) {
  return defineComponent({
    setup(_, { expose }) {
      expose({
        validate: () => (valid.value ? Promise.resolve(true) : Promise.reject(new Error('invalid'))),
        clearValidate: () => cleared.n++,
      })
      return () => h('form')
    },
  })
}

function mountDialog(options: FormDialogOptions) {
  const visible = ref(false)
  const valid = ref(true)
  const cleared = { n: 0 }
  const Form = fakeForm(valid, cleared)
  let dialog!: ReturnType<typeof useFormDialog>
  const app = createApp(
    defineComponent({
      setup() {
        dialog = useFormDialog(visible, options)
        return () => h(Form, { ref: 'formRef' })
      },
    }),
  )
  app.mount(document.createElement('div'))
  return { app, visible, valid, cleared, dialog }
}

function problem(status: number, code: string, errors: { field: string; message: string }[] = []): ApiError {
  return new ApiError(status, {
    type: 'about:blank',
    title: `problem ${code}`,
    status,
    code,
    errors: errors.map((e) => ({ ...e, location: 'body', code: 'invalid' })),
  })
}

describe('useFormDialog', () => {
  afterEach(() => message.error.mockReset())

  it('starts afresh on each opening: the form, the messages, the banner and the rules', async () => {
    const reset = vi.fn()
    const { visible, cleared, dialog } = mountDialog({ fields: ['name'], reset })
    dialog.errors.state.fields = { name: 'taken' }
    dialog.conflict.value = true
    visible.value = true
    await nextTick()
    expect(reset).toHaveBeenCalledTimes(1)
    expect(dialog.errors.state.fields).toEqual({})
    expect(dialog.conflict.value).toBe(false)
    expect(cleared.n).toBe(1)
    visible.value = false
    await nextTick()
    expect(reset).toHaveBeenCalledTimes(1)
  })

  it('does not save when the form is invalid', async () => {
    const { valid, dialog } = mountDialog({ fields: [] })
    valid.value = false
    const save = vi.fn()
    expect(await dialog.submit(save)).toBe(false)
    expect(save).not.toHaveBeenCalled()
  })

  it('saves, closes, then hands the result over; saving is on only meanwhile', async () => {
    const { visible, dialog } = mountDialog({ fields: [] })
    visible.value = true
    await nextTick()
    const seen: string[] = []
    const done = dialog.submit(
      async () => {
        await nextTick()
        seen.push(`saving ${dialog.saving.value}`)
        return 42
      },
      (result) => seen.push(`saved ${result}, open ${visible.value}`),
    )
    expect(await done).toBe(true)
    expect(seen).toEqual(['saving true', 'saved 42, open false'])
    expect(dialog.saving.value).toBe(false)
  })

  it('puts a 422 on its fields (aliases too) and keeps the dialog open', async () => {
    const { visible, dialog } = mountDialog({ fields: ['region', 'postal_code'], aliases: { province: 'region' } })
    visible.value = true
    await nextTick()
    const failure = problem(422, 'validation', [
      { field: 'province', message: '请选择省份' },
      { field: 'postal_code', message: '邮编为 6 位数字' },
    ])
    expect(await dialog.submit(() => Promise.reject(failure))).toBe(false)
    expect(dialog.errors.state.fields).toEqual({ region: '请选择省份', postal_code: '邮编为 6 位数字' })
    expect(visible.value).toBe(true)
    expect(message.error).not.toHaveBeenCalled()
    expect(dialog.saving.value).toBe(false)
  })

  it('raises the conflict banner for the 409s it is told about, and shows any other failure', async () => {
    const { dialog } = mountDialog({ fields: [], isConflict: (e) => e.code === 'version_conflict' })
    await dialog.submit(() => Promise.reject(problem(409, 'version_conflict')))
    expect(dialog.conflict.value).toBe(true)
    expect(message.error).not.toHaveBeenCalled()
    await dialog.submit(() => Promise.reject(problem(409, 'duplicate')))
    expect(dialog.conflict.value).toBe(false)
    expect(message.error).toHaveBeenCalledWith('problem duplicate')
  })

  it('lets the dialog answer a failure itself before anything else', async () => {
    let dialog!: ReturnType<typeof useFormDialog>
    ;({ dialog } = mountDialog({
      fields: ['name'],
      isConflict: () => true,
      refused: (error) => {
        if (!(error instanceof ApiError && error.code === 'duplicate')) return false
        dialog.errors.state.fields = { name: error.problem.title }
        return true
      },
    }))
    await dialog.submit(() => Promise.reject(problem(409, 'duplicate')))
    expect(dialog.errors.state.fields).toEqual({ name: 'problem duplicate' })
    expect(dialog.conflict.value).toBe(false)
    expect(message.error).not.toHaveBeenCalled()
  })
})

describe('formBody', () => {
  const fields = ['name', 'phone', 'primary'] as const
  it('sends every field of a new record, blank text as null', () => {
    expect(formBody(fields, { name: ' 张三 ', phone: '', primary: false }, null)).toEqual({ name: '张三', phone: null, primary: false })
  })
  it('sends only the changed fields of an edit (a masked phone left alone stays out)', () => {
    const initial = { name: '张三', phone: '138****0000', primary: false }
    expect(formBody(fields, { ...initial, primary: true }, initial)).toEqual({ primary: true })
  })
})
