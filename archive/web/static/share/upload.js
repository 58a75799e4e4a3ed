// Sends a share form with progress, retries a dropped connection and shows mistakes in place.
//
// Without this file the form posts as an ordinary form and the server answers with a page.
// Here the same form goes by XMLHttpRequest (fetch cannot report upload progress) asking for
// JSON. A retry sends the same hidden upload id, so the server keeps one item however many
// attempts reach it. recorder.js and drawing.js add their files through `form.chorusFiles`:
// field name -> { ready(): is there something to send, make(): a promise of { blob, filename } }.
import { ErrorSummary } from '../govuk/govuk-frontend.min.js'

const RETRY_SECONDS = [1, 2, 4, 8, 16]
const RETRY_STATUSES = new Set([0, 408, 429, 502, 503, 504])

function messagesOf (root, selector) {
  const found = {}
  const template = root.querySelector(selector)
  if (template) {
    for (const span of template.content.querySelectorAll('[data-key]')) found[span.dataset.key] = span.textContent
  }
  return (key, values = {}) => (found[key] || '').replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '')
}

function wait (seconds) {
  return new Promise(resolve => setTimeout(resolve, seconds * 1000))
}

function post (form, data, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', form.action)
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.upload.addEventListener('progress', event => {
      if (event.lengthComputable) onProgress(event.loaded / event.total)
    })
    xhr.upload.addEventListener('load', () => onProgress(1))
    xhr.addEventListener('load', () => resolve(xhr))
    xhr.addEventListener('error', () => reject(new Error('network')))
    xhr.addEventListener('abort', () => reject(new Error('network')))
    xhr.addEventListener('timeout', () => reject(new Error('network')))
    xhr.send(data)
  })
}

function jsonOf (xhr) {
  try {
    return JSON.parse(xhr.responseText)
  } catch {
    return null
  }
}

// How long a chosen recording is, from its metadata; NaN when the browser cannot tell.
function durationOf (file) {
  return new Promise(resolve => {
    const element = document.createElement(file.type.startsWith('video') ? 'video' : 'audio')
    const url = URL.createObjectURL(file)
    const done = value => { URL.revokeObjectURL(url); resolve(value) }
    element.preload = 'metadata'
    element.addEventListener('loadedmetadata', () => done(element.duration))
    element.addEventListener('error', () => done(NaN))
    setTimeout(() => done(NaN), 3000)
    element.src = url
  })
}

function family (accept) {
  return (accept || '').split('/')[0]
}

class ShareUpload {
  constructor (form) {
    this.form = form
    this.sending = false
    this.text = messagesOf(form, 'template[data-upload-messages]')
    this.status = form.querySelector('[data-upload-status]')
    this.progress = form.querySelector('[data-progress]')
    this.message = form.querySelector('[data-message]')
    this.button = form.querySelector('button[type=submit], .govuk-button:not([type=button])')
    this.errorPrefix = this.text('error-prefix')
    this.title = document.title.replace(`${this.errorPrefix} `, '')
    form.chorusFiles ??= new Map()
    form.addEventListener('submit', event => {
      // Nothing to upload (a story, or a form sent empty): the ordinary post is as good and
      // answers with the server's own page. Files go through here for progress and retries.
      if (!this.hasFiles()) return
      event.preventDefault()
      if (!this.sending) this.submit()
    })
  }

  hasFiles () {
    const chosen = [...this.form.querySelectorAll('input[type=file]')].some(input => input.files.length)
    return chosen || [...this.form.chorusFiles.values()].some(file => file.ready())
  }

  async formData () {
    const data = new FormData(this.form)
    for (const [name, file] of this.form.chorusFiles) {
      const made = file.ready() && await file.make()
      if (made) data.set(name, made.blob, made.filename)
    }
    return data
  }

  async check (data) {
    const errors = []
    for (const input of this.form.querySelectorAll('input[type=file][data-chorus-file]')) {
      const file = data.get(input.name)
      if (!(file instanceof File) || file.size === 0) continue
      const wanted = family(input.accept)
      if (file.type && wanted && family(file.type) !== wanted) {
        errors.push({ id: input.id, text: this.text('wrong-kind') })
      } else if (file.size > Number(input.dataset.maxBytes)) {
        errors.push({ id: input.id, text: this.text('too-big', { mb: Math.floor(input.dataset.maxBytes / 1048576) }) })
      } else if (input.dataset.maxSeconds && input.files[0] === file) {
        const seconds = await durationOf(file)
        if (Number.isFinite(seconds) && seconds > Number(input.dataset.maxSeconds) + 1) {
          errors.push({ id: input.id, text: this.text('too-long', { minutes: Math.floor(input.dataset.maxSeconds / 60) }) })
        }
      }
    }
    return errors
  }

  say (key, values) {
    this.status.hidden = false
    this.message.textContent = this.text(key, values)
  }

  async submit () {
    this.sending = true
    this.button.disabled = true
    this.clearErrors()
    try {
      const data = await this.formData()
      const problems = await this.check(data)
      if (problems.length) return this.showErrors(problems)
      await this.send(data)
    } finally {
      this.sending = false
      this.button.disabled = false
    }
  }

  async send (data) {
    this.progress.value = 0
    this.say('sending')
    for (let attempt = 0; ; attempt++) {
      let xhr = null
      try {
        xhr = await post(this.form, data, fraction => {
          this.progress.value = Math.round(fraction * 100)
          if (fraction >= 1) this.say('processing')
        })
      } catch {
        // The connection dropped: nothing half-sent is kept, so the whole form goes again.
      }
      const status = xhr ? xhr.status : 0
      const body = xhr && jsonOf(xhr)
      if (status >= 200 && status < 300 && body && body.next) {
        this.say('done')
        window.location.assign(body.next)
        return
      }
      if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname !== new URL(this.form.action).pathname) {
        // Sent somewhere else, as when the session ran out and the server asks to join again: go there.
        window.location.assign(xhr.responseURL)
        return
      }
      if (body && body.errors) {
        this.status.hidden = true
        return this.showErrors(body.errors)
      }
      if (!RETRY_STATUSES.has(status)) {
        return this.showErrors([{ id: '', text: this.text('failed') }])
      }
      if (attempt >= RETRY_SECONDS.length) {
        return this.showErrors([{ id: '', text: this.text('offline') }])
      }
      const seconds = RETRY_SECONDS[attempt]
      this.progress.value = 0
      this.say('retrying')
      await Promise.race([wait(seconds), new Promise(resolve => window.addEventListener('online', resolve, { once: true }))])
      this.say('sending')
    }
  }

  clearErrors () {
    const main = document.querySelector('main')
    main.querySelectorAll('.govuk-error-summary').forEach(summary => summary.remove())
    this.form.querySelectorAll('.govuk-error-message').forEach(message => message.remove())
    this.form.querySelectorAll('.govuk-form-group--error').forEach(group => group.classList.remove('govuk-form-group--error'))
    this.form.querySelectorAll('.govuk-input--error, .govuk-textarea--error, .govuk-file-upload--error').forEach(field => {
      field.classList.remove('govuk-input--error', 'govuk-textarea--error', 'govuk-file-upload--error')
      const describedBy = (field.getAttribute('aria-describedby') || '').split(' ').filter(id => !id.endsWith('-error'))
      if (describedBy.length) field.setAttribute('aria-describedby', describedBy.join(' '))
      else field.removeAttribute('aria-describedby')
    })
    document.title = this.title
  }

  // The same markup GOV.UK Frontend's macros write, so a mistake looks and reads the same with or without JavaScript.
  showErrors (errors) {
    const summary = document.createElement('div')
    summary.className = 'govuk-error-summary'
    summary.dataset.module = 'govuk-error-summary'
    const alert = document.createElement('div')
    alert.setAttribute('role', 'alert')
    const title = document.createElement('h2')
    title.className = 'govuk-error-summary__title'
    title.textContent = this.text('summary')
    const list = document.createElement('ul')
    list.className = 'govuk-list govuk-error-summary__list'
    const body = document.createElement('div')
    body.className = 'govuk-error-summary__body'
    body.append(list)
    alert.append(title, body)
    summary.append(alert)
    for (const error of errors) {
      const item = document.createElement('li')
      const field = error.id && document.getElementById(error.id)
      if (field) {
        const link = document.createElement('a')
        link.href = `#${error.id}`
        link.textContent = error.text
        item.append(link)
        this.markField(field, error.text)
      } else {
        item.textContent = error.text
      }
      list.append(item)
    }
    document.querySelector('main').prepend(summary)
    document.title = `${this.errorPrefix} ${this.title}`
    new ErrorSummary(summary) // eslint-disable-line no-new
  }

  markField (field, text) {
    const group = field.closest('.govuk-form-group')
    if (!group || group.querySelector(':scope > .govuk-error-message, :scope > fieldset > .govuk-error-message')) return
    group.classList.add('govuk-form-group--error')
    const message = document.createElement('p')
    message.className = 'govuk-error-message'
    message.id = `${field.id}-error`
    const hidden = document.createElement('span')
    hidden.className = 'govuk-visually-hidden'
    hidden.textContent = this.errorPrefix
    message.append(hidden, ` ${text}`)
    const choices = field.closest('.govuk-checkboxes, .govuk-radios')
    const before = choices || field
    before.parentNode.insertBefore(message, before)
    if (field.matches('textarea')) field.classList.add('govuk-textarea--error')
    else if (field.type === 'file') field.classList.add('govuk-file-upload--error')
    else if (!choices) field.classList.add('govuk-input--error')
    const owner = choices ? choices.closest('fieldset') : field
    if (owner) owner.setAttribute('aria-describedby', `${owner.getAttribute('aria-describedby') || ''} ${message.id}`.trim())
  }
}

for (const form of document.querySelectorAll('form[data-chorus-upload]')) new ShareUpload(form) // eslint-disable-line no-new
