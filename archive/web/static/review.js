// The facilitator's review page: the transcript editor beside the player, drawing blur boxes on
// the picture, and picking words to hide by selecting them. Everything here has a plain form
// underneath that works without it.

import { lineAt, mark, play, seek, showCaptions } from './player.js'

const player = document.querySelector('[data-chorus-player]')
const editor = document.querySelector('[data-chorus-transcript-editor]')
const lines = editor ? Array.from(editor.querySelectorAll('li[data-start]')) : []
const CURRENT = 'chorus-editor__line--current'
const BACK_SECONDS = 3

function playFrom (line) {
  if (!player || !line) return
  seek(player, parseFloat(line.dataset.start))
  mark(lines, line, CURRENT)
  play(player)
}

if (player) {
  showCaptions(player)
  player.addEventListener('timeupdate', () => {
    if (!player.paused) mark(lines, lineAt(lines, player.currentTime), CURRENT)
  })
}

if (editor) {
  editor.addEventListener('click', (event) => {
    const button = event.target.closest('[data-chorus-seek]')
    if (button) playFrom(button.closest('li[data-start]'))
  })
  // Typing in a line moves the player there, so the words being fixed are the words playing.
  editor.addEventListener('focusin', (event) => {
    if (event.target.matches('textarea')) mark(lines, event.target.closest('li[data-start]'), CURRENT)
  })
}

document.addEventListener('keydown', (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || !player) return
  const current = editor ? editor.querySelector('.' + CURRENT) : null
  const index = lines.indexOf(current)
  let next = null
  if (event.key === 'p' || event.key === 'P' || event.code === 'KeyP') {
    if (player.paused) play(player)
    else player.pause()
  } else if (event.key === 'b' || event.key === 'B' || event.code === 'KeyB') {
    seek(player, Math.max(0, player.currentTime - BACK_SECONDS))
  } else if (event.key === 'ArrowDown') {
    next = lines[Math.min(lines.length - 1, index + 1)]
  } else if (event.key === 'ArrowUp') {
    next = lines[Math.max(0, index - 1)]
  } else {
    return
  }
  event.preventDefault()
  if (next) {
    playFrom(next)
    const text = next.querySelector('textarea')
    if (text) text.focus()
  }
})

// Selecting words anywhere marked selectable (the story, the words in the picture) or in a
// transcript line offers them for hiding.
const phrase = document.querySelector('[data-chorus-phrase-form] input[name="phrase"]')
if (phrase) {
  document.addEventListener('mouseup', () => {
    const chosen = window.getSelection().toString().trim()
    const anchor = window.getSelection().anchorNode
    const where = anchor && (anchor.nodeType === 1 ? anchor : anchor.parentElement)
    if (chosen && chosen.length <= 200 && where && where.closest('[data-chorus-selectable], .chorus-editor__heard')) {
      phrase.value = chosen
    }
  })
  for (const textarea of lines.map((line) => line.querySelector('textarea'))) {
    textarea.addEventListener('select', () => {
      const chosen = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd).trim()
      if (chosen) phrase.value = chosen
    })
  }
}

// Drawing a blur box: drag over the picture; the form's percentage fields are filled in.
const boxForm = document.querySelector('[data-chorus-box-form]')
const picture = document.querySelector('.chorus-review-media img, .chorus-review-media video')
if (boxForm && picture) {
  const frame = document.querySelector('[data-chorus-box-drawer]')
  frame.classList.add('chorus-box-frame')
  const outline = document.createElement('div')
  outline.className = 'chorus-box-outline'
  outline.hidden = true
  frame.appendChild(outline)
  let origin = null

  const fraction = (event) => {
    const rect = picture.getBoundingClientRect()
    return {
      x: Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)),
      y: Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height))
    }
  }
  const draw = (a, b) => {
    const left = Math.min(a.x, b.x)
    const top = Math.min(a.y, b.y)
    const width = Math.abs(a.x - b.x)
    const height = Math.abs(a.y - b.y)
    const rect = picture.getBoundingClientRect()
    const frameRect = frame.getBoundingClientRect()
    Object.assign(outline.style, {
      left: (rect.left - frameRect.left + left * rect.width) + 'px',
      top: (rect.top - frameRect.top + top * rect.height) + 'px',
      width: (width * rect.width) + 'px',
      height: (height * rect.height) + 'px'
    })
    outline.hidden = false
    const percent = (n) => (n * 100).toFixed(1)
    boxForm.querySelector('[name="x"]').value = percent(left)
    boxForm.querySelector('[name="y"]').value = percent(top)
    boxForm.querySelector('[name="width"]').value = percent(width)
    boxForm.querySelector('[name="height"]').value = percent(height)
  }

  picture.addEventListener('pointerdown', (event) => {
    if (picture.tagName === 'VIDEO' && event.target === picture && event.offsetY > picture.clientHeight - 40) return // the controls
    origin = fraction(event)
    picture.setPointerCapture(event.pointerId)
    event.preventDefault()
  })
  picture.addEventListener('pointermove', (event) => { if (origin) draw(origin, fraction(event)) })
  picture.addEventListener('pointerup', (event) => {
    if (!origin) return
    draw(origin, fraction(event))
    origin = null
  })
  picture.style.touchAction = 'none'
  picture.style.cursor = 'crosshair'
}

// "Now" buttons put the player's current time into the bleep fields.
for (const button of document.querySelectorAll('[data-chorus-now]')) {
  if (!player) break
  button.hidden = false
  button.addEventListener('click', () => {
    document.getElementById(button.dataset.chorusNow).value = player.currentTime.toFixed(1)
  })
}
