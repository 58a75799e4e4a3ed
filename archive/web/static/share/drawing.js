// Drawing on the screen: pointer (finger, pen, mouse) or keyboard, a few colours and sizes,
// undo and clear. Strokes are kept as points, so undo redraws and the PNG sent is drawn
// afresh on a white page without the keyboard cursor.

const STEP = 15

function messagesOf (root) {
  const found = {}
  for (const span of root.querySelector('template[data-messages]').content.querySelectorAll('[data-key]')) {
    found[span.dataset.key] = span.textContent
  }
  return key => found[key] || ''
}

function paint (context, strokes, width, height) {
  context.fillStyle = '#ffffff'
  context.fillRect(0, 0, width, height)
  context.lineCap = 'round'
  context.lineJoin = 'round'
  for (const stroke of strokes) {
    context.strokeStyle = stroke.colour
    context.fillStyle = stroke.colour
    context.lineWidth = stroke.size
    const [first, ...rest] = stroke.points
    if (!rest.length) {
      context.beginPath()
      context.arc(first.x, first.y, stroke.size / 2, 0, Math.PI * 2)
      context.fill()
      continue
    }
    context.beginPath()
    context.moveTo(first.x, first.y)
    for (const point of rest) context.lineTo(point.x, point.y)
    context.stroke()
  }
}

class Drawing {
  constructor (root) {
    this.root = root
    this.canvas = root.querySelector('[data-canvas]')
    this.context = this.canvas.getContext('2d')
    this.status = root.querySelector('[data-status]')
    this.text = messagesOf(root)
    this.strokes = []
    this.current = null
    this.cursor = { x: this.canvas.width / 2, y: this.canvas.height / 2 }
    this.penDown = false
    const form = root.closest('form')
    this.fileInput = form.querySelector(`input[type=file][name="${root.dataset.field}"]`)
    form.chorusFiles ??= new Map()
    form.chorusFiles.set(root.dataset.field, {
      // A photo of a paper drawing chosen in the file field wins over the canvas.
      ready: () => this.strokes.length > 0 && !this.fileInput?.files.length,
      make: () => this.png()
    })
    this.canvas.addEventListener('pointerdown', event => this.down(event))
    this.canvas.addEventListener('pointermove', event => this.move(event))
    for (const name of ['pointerup', 'pointercancel']) this.canvas.addEventListener(name, () => { this.current = null })
    this.canvas.addEventListener('keydown', event => this.key(event))
    this.canvas.addEventListener('focus', () => this.redraw())
    this.canvas.addEventListener('blur', () => this.redraw())
    root.querySelector('[data-action=undo]').addEventListener('click', () => this.undo())
    root.querySelector('[data-action=clear]').addEventListener('click', () => this.clear())
    root.hidden = false
    this.redraw()
  }

  pen () {
    return {
      colour: this.root.querySelector('[data-colour]:checked').value,
      size: Number(this.root.querySelector('[data-size]:checked').value)
    }
  }

  at (event) {
    const box = this.canvas.getBoundingClientRect()
    return {
      x: (event.clientX - box.left) * this.canvas.width / box.width,
      y: (event.clientY - box.top) * this.canvas.height / box.height
    }
  }

  down (event) {
    event.preventDefault()
    this.cleared = null
    this.canvas.setPointerCapture(event.pointerId)
    this.current = { ...this.pen(), points: [this.at(event)] }
    this.strokes.push(this.current)
    this.redraw()
  }

  move (event) {
    if (!this.current) return
    for (const each of event.getCoalescedEvents?.() || [event]) this.current.points.push(this.at(each))
    this.redraw()
  }

  key (event) {
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] }
    if (event.key === ' ') {
      event.preventDefault()
      this.penDown = !this.penDown
      this.current = this.penDown ? { ...this.pen(), points: [{ ...this.cursor }] } : null
      if (this.current) {
        this.strokes.push(this.current)
        this.cleared = null
      }
      this.status.textContent = this.text(this.penDown ? 'pen-down' : 'pen-up')
    } else if (moves[event.key]) {
      event.preventDefault()
      const [dx, dy] = moves[event.key]
      const step = event.shiftKey ? STEP * 3 : STEP
      this.cursor = {
        x: Math.min(this.canvas.width, Math.max(0, this.cursor.x + dx * step)),
        y: Math.min(this.canvas.height, Math.max(0, this.cursor.y + dy * step))
      }
      if (this.penDown) this.current.points.push({ ...this.cursor })
    } else {
      return
    }
    this.redraw()
  }

  redraw () {
    paint(this.context, this.strokes, this.canvas.width, this.canvas.height)
    if (document.activeElement === this.canvas) {
      // The keyboard pen's position, drawn only on screen: a ring that shows on any colour.
      const { x, y } = this.cursor
      this.context.lineWidth = 4
      this.context.strokeStyle = '#0b0c0c'
      this.context.beginPath()
      this.context.arc(x, y, 14, 0, Math.PI * 2)
      this.context.stroke()
      this.context.lineWidth = 2
      this.context.strokeStyle = '#ffdd00'
      this.context.stroke()
    }
  }

  undo () {
    // Undo straight after Clear brings the whole drawing back: a slip of the finger costs nothing.
    if (!this.strokes.length && this.cleared) {
      this.strokes = this.cleared
      this.cleared = null
    } else {
      this.strokes.pop()
    }
    this.current = null
    this.penDown = false
    this.redraw()
    this.status.textContent = this.text('undone')
  }

  clear () {
    if (this.strokes.length) this.cleared = this.strokes
    this.strokes = []
    this.current = null
    this.penDown = false
    this.redraw()
    this.status.textContent = this.text('cleared')
  }

  // The drawing as a PNG on a white page.
  png () {
    const page = document.createElement('canvas')
    page.width = this.canvas.width
    page.height = this.canvas.height
    paint(page.getContext('2d'), this.strokes, page.width, page.height)
    return new Promise(resolve => page.toBlob(blob => resolve(blob && { blob, filename: 'drawing.png' }), 'image/png'))
  }
}

for (const root of document.querySelectorAll('[data-chorus-drawing]')) new Drawing(root) // eslint-disable-line no-new
