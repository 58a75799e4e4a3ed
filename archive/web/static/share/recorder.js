// Records a voice note or video diary in the browser: a level meter, pause, listen back,
// record again, and a length limit that stops the recording when it is reached.
//
// The recording is uploaded as recorded (WebM with Opus from Chromium, MP4 from Safari): the
// server decides its type by content and converts it. Without a microphone, permission or
// MediaRecorder the recorder stays hidden and the file field beside it is the way to share.

const TYPES = {
  audio: ['audio/webm;codecs=opus', 'audio/mp4', 'audio/ogg;codecs=opus', ''],
  video: ['video/webm;codecs=vp8,opus', 'video/mp4', 'video/webm', '']
}
const EXTENSIONS = { 'audio/webm': 'webm', 'video/webm': 'webm', 'audio/mp4': 'm4a', 'video/mp4': 'mp4', 'audio/ogg': 'ogg' }

function clock (seconds) {
  const whole = Math.floor(seconds)
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
}

function messagesOf (root) {
  const found = {}
  for (const span of root.querySelector('template[data-messages]').content.querySelectorAll('[data-key]')) {
    found[span.dataset.key] = span.textContent
  }
  return key => found[key] || ''
}

class Recorder {
  constructor (root) {
    this.root = root
    this.kind = root.dataset.media
    this.maxSeconds = Number(root.dataset.maxSeconds)
    this.text = messagesOf(root)
    this.status = root.querySelector('[data-status]')
    this.time = root.querySelector('[data-time]')
    this.level = root.querySelector('[data-level]')
    this.preview = root.querySelector('[data-preview]')
    this.playback = root.querySelector('[data-playback]')
    this.buttons = {}
    for (const button of root.querySelectorAll('button[data-action]')) {
      this.buttons[button.dataset.action] = button
      button.addEventListener('click', () => this[button.dataset.action]())
    }
    this.blob = null
    const form = root.closest('form')
    form.chorusFiles ??= new Map()
    form.chorusFiles.set(root.dataset.field, {
      ready: () => Boolean(this.blob),
      make: async () => ({ blob: this.blob, filename: `recording.${EXTENSIONS[this.blob.type.split(';')[0]] || 'webm'}` })
    })
    root.hidden = false
  }

  show (...actions) {
    for (const [name, button] of Object.entries(this.buttons)) button.hidden = !actions.includes(name)
  }

  say (key) {
    this.status.textContent = this.text(key)
  }

  tick () {
    this.time.textContent = `${clock(this.elapsed)} / ${clock(this.maxSeconds)}`
  }

  async start () {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: true, video: this.kind === 'video' ? { facingMode: 'user' } : false
      })
    } catch {
      this.say('denied')
      this.show()
      return
    }
    this.forget()
    if (this.preview) {
      this.preview.srcObject = this.stream
      this.preview.hidden = false
      this.preview.play().catch(() => {})
    }
    this.listen()
    const mimeType = TYPES[this.kind].find(type => type === '' || MediaRecorder.isTypeSupported(type))
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {})
    const chunks = []
    this.recorder.addEventListener('dataavailable', event => { if (event.data.size) chunks.push(event.data) })
    this.recorder.addEventListener('stop', () => this.finished(chunks))
    this.elapsed = 0
    this.last = performance.now()
    this.timer = setInterval(() => this.count(), 200)
    this.recorder.start(1000)
    this.tick()
    this.say('recording')
    this.show('pause', 'stop')
  }

  // The level meter: the loudness (RMS) of the microphone, from a Web Audio AnalyserNode.
  listen () {
    this.audio = new AudioContext()
    const analyser = this.audio.createAnalyser()
    analyser.fftSize = 1024
    this.audio.createMediaStreamSource(this.stream).connect(analyser)
    const samples = new Float32Array(analyser.fftSize)
    const draw = () => {
      analyser.getFloatTimeDomainData(samples)
      let sum = 0
      for (const sample of samples) sum += sample * sample
      this.level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4)
      this.frame = requestAnimationFrame(draw)
    }
    draw()
  }

  count () {
    const now = performance.now()
    if (this.recorder.state === 'recording') this.elapsed += (now - this.last) / 1000
    this.last = now
    this.tick()
    if (this.elapsed >= this.maxSeconds) this.stop('limit')
  }

  pause () {
    this.recorder.pause()
    this.say('paused')
    this.show('resume', 'stop')
    this.buttons.resume.focus()
  }

  resume () {
    this.recorder.resume()
    this.say('recording')
    this.show('pause', 'stop')
    this.buttons.pause.focus()
  }

  stop (reason = 'done') {
    if (!this.recorder || this.recorder.state === 'inactive') return
    this.reason = reason
    clearInterval(this.timer)
    this.recorder.stop()
  }

  finished (chunks) {
    this.blob = new Blob(chunks, { type: this.recorder.mimeType || chunks[0]?.type || '' })
    this.stream.getTracks().forEach(track => track.stop())
    cancelAnimationFrame(this.frame)
    this.audio.close()
    this.level.value = 0
    if (this.preview) {
      this.preview.srcObject = null
      this.preview.hidden = true
    }
    this.playback.src = URL.createObjectURL(this.blob)
    this.playback.hidden = false
    this.say(this.reason)
    this.show('again')
    this.buttons.again.focus()
  }

  again () {
    this.start()
  }

  forget () {
    if (this.playback.src) URL.revokeObjectURL(this.playback.src)
    this.playback.removeAttribute('src')
    this.playback.hidden = true
    this.blob = null
  }
}

if (navigator.mediaDevices?.getUserMedia && window.MediaRecorder && window.AudioContext) {
  for (const root of document.querySelectorAll('[data-chorus-recorder]')) new Recorder(root) // eslint-disable-line no-new
}
