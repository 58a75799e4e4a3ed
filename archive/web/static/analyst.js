// The analyst's item page: play a recording from any transcript line, and open at a search hit's moment.
//
// Without this file the page still works: each line's time is a link that reloads the page with
// the player opened at that moment (a #t= media fragment), and the server marks the line. This
// makes the same thing happen in place, keeps the playing line marked, and turns captions on.

const player = document.querySelector('[data-chorus-player]')
const transcript = document.querySelector('[data-chorus-transcript]')

function lines () {
  return transcript ? Array.from(transcript.querySelectorAll('li[data-start]')) : []
}

function mark (line) {
  for (const other of lines()) {
    const current = other === line
    other.classList.toggle('chorus-transcript__line--current', current)
    if (current) other.setAttribute('aria-current', 'true')
    else other.removeAttribute('aria-current')
  }
}

function lineAt (seconds) {
  let found = null
  for (const line of lines()) {
    if (parseFloat(line.dataset.start) <= seconds + 0.01) found = line
    else break
  }
  return found
}

function showCaptions () {
  for (const track of Array.from(player.textTracks)) {
    if (track.kind === 'captions' || track.kind === 'subtitles') track.mode = 'showing'
  }
}

function seek (seconds) {
  if (player.readyState >= 1) {
    player.currentTime = seconds
  } else {
    // Before metadata, a seek is remembered by some browsers and dropped by others: redo it once it can land.
    player.addEventListener('loadedmetadata', () => { player.currentTime = seconds }, { once: true })
    player.currentTime = seconds
  }
}

if (player) {
  showCaptions()
  // A track element can arrive after the script has run (the parser is still going, or the
  // browser reset the mode): turn captions on again whenever one is added.
  player.textTracks.addEventListener('addtrack', showCaptions)

  const start = parseFloat(player.dataset.start)
  if (!Number.isNaN(start)) {
    seek(start)
    mark(lineAt(start))
  }

  player.addEventListener('timeupdate', () => {
    if (!player.paused) mark(lineAt(player.currentTime))
  })

  if (transcript) {
    transcript.addEventListener('click', (event) => {
      if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return
      const line = event.target.closest('li[data-start]')
      if (!line || window.getSelection().toString()) return // selecting words to quote is not a request to play
      event.preventDefault()
      const seconds = parseFloat(line.dataset.start)
      seek(seconds)
      mark(line)
      const played = player.play()
      if (played) played.catch(() => {}) // a browser may refuse to autoplay; the seek still stands
    })
    transcript.classList.add('chorus-transcript--clickable')
  }
}
