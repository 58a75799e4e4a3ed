// Kiosk mode for an exhibit shown on a screen at an event.
//
// Without JavaScript each slide is a plain page with Previous and Next links. With it, the
// slideshow moves on by itself every few seconds (never while a recording plays), with a visible
// Pause button and keys: arrows to move, P to pause or play. Pausing lasts across slides.
// A classic script, not a module: the offline copy is opened from files, where modules do not load.
(function () {
  'use strict'
  var kiosk = document.querySelector('[data-chorus-kiosk]')
  if (!kiosk || !kiosk.getAttribute('data-next')) return

  var STORE = 'chorus-kiosk-paused'
  var button = kiosk.querySelector('[data-chorus-kiosk-pause]')
  var next = kiosk.querySelector('[data-chorus-kiosk-next]')
  var previous = kiosk.querySelector('[data-chorus-kiosk-previous]')
  var status = kiosk.querySelector('[data-chorus-kiosk-status]')
  var seconds = parseInt(kiosk.getAttribute('data-seconds'), 10) || 12
  var timer = null
  var paused = remembered()

  function remembered () {
    try { return window.sessionStorage.getItem(STORE) === '1' } catch (e) { return false }
  }
  function remember (value) {
    try { window.sessionStorage.setItem(STORE, value ? '1' : '0') } catch (e) { /* private mode: this page only */ }
  }
  function recordingPlaying () {
    var media = kiosk.querySelectorAll('video, audio')
    for (var i = 0; i < media.length; i++) {
      if (!media[i].paused && !media[i].ended) return true
    }
    return false
  }
  function go (link) {
    if (link) window.location.assign(link.href)
  }
  function tick () {
    if (paused) return
    if (recordingPlaying()) {
      timer = window.setTimeout(tick, 1000)
      return
    }
    go(next)
  }
  function schedule () {
    window.clearTimeout(timer)
    if (!paused) timer = window.setTimeout(tick, seconds * 1000)
  }
  function show () {
    kiosk.setAttribute('data-paused', paused ? 'true' : 'false')
    button.setAttribute('aria-pressed', paused ? 'true' : 'false')
    button.textContent = button.getAttribute(paused ? 'data-resume-text' : 'data-pause-text')
    if (status) status.textContent = status.getAttribute(paused ? 'data-paused-text' : 'data-playing-text')
  }
  function toggle () {
    paused = !paused
    remember(paused)
    show()
    schedule()
  }

  button.hidden = false
  button.addEventListener('click', toggle)
  document.addEventListener('keydown', function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return
    var tag = event.target && event.target.tagName
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'VIDEO' || tag === 'AUDIO') return
    if (event.key === 'ArrowRight') { event.preventDefault(); go(next) }
    else if (event.key === 'ArrowLeft') { event.preventDefault(); go(previous) }
    else if (event.key === 'p' || event.key === 'P') { event.preventDefault(); toggle() }
  })
  show()
  schedule()
})()
