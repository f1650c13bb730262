import { ref, useTemplateRef, watch, type Ref } from 'vue'
import { ElMessage, type FormInstance } from 'element-plus'
import { ApiError } from '@/api/problem'
import { errorMessage, useFormErrors } from './errors'

export interface FormDialogOptions {
  /** The form's fields, for the server's 422 messages (see useFormErrors). */
  fields: readonly string[]
  aliases?: Readonly<Record<string, string>>
  /** Fill the form afresh; runs each time the dialog opens. */
  reset?: () => void
  /** Which 409 means "changed by someone else meanwhile": it raises `conflict` (the banner). */
  isConflict?: (error: ApiError) => boolean
  /** A failure the dialog answers itself (true when it did); asked before anything else. */
  refused?: (error: unknown) => boolean
}

/**
 * What a dialog with a form repeats: the form (the template's `ref="formRef"`), the saving flag, the conflict banner, the
 * server's messages on the fields, a fresh start on each opening, and a submit that validates,
 * saves, closes on success, and otherwise puts a 422 on the fields or shows the message.
 */
export function useFormDialog(visible: Ref<boolean>, options: FormDialogOptions) {
  const formRef = useTemplateRef<FormInstance>('formRef')
  const saving = ref(false)
  const conflict = ref(false)
  const errors = useFormErrors(options.fields, options.aliases)

  watch(visible, (open) => {
    if (!open) return
    options.reset?.()
    conflict.value = false
    errors.clear()
    formRef.value?.clearValidate()
  })

  /** The browser's own checks (the rules); false when a field is wrong. */
  async function validate(): Promise<boolean> {
    return (await formRef.value?.validate().catch(() => false)) ?? false
  }

  /**
   * Validate, then `save` (the call and its success message); on success close the dialog and
   * hand the result to `saved` (the emit).
   */
  async function submit<T>(save: () => Promise<T>, saved?: (result: T) => void): Promise<boolean> {
    if (!(await validate())) return false
    saving.value = true
    errors.clear()
    conflict.value = false
    try {
      const result = await save()
      visible.value = false
      saved?.(result)
      return true
    } catch (error) {
      if (options.refused?.(error)) return false
      if (error instanceof ApiError && error.status === 409 && options.isConflict?.(error)) conflict.value = true
      else if (!errors.apply(error)) ElMessage.error(errorMessage(error))
      return false
    } finally {
      saving.value = false
    }
  }

  return { saving, conflict, errors, validate, submit }
}

/**
 * The body of a create or an update: blank strings become null, and an update sends only what
 * was changed, so a masked value the user did not retype is never written back.
 */
export function formBody<F extends object>(fields: readonly (keyof F)[], form: F, initial: F | null): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  for (const field of fields) {
    const value = form[field]
    if (initial && value === initial[field]) continue
    body[field as string] = typeof value === 'string' ? value.trim() || null : value
  }
  return body
}
