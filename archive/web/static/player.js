// What the pages with a player and a transcript share: find the line playing at a moment, mark
// it, and seek reliably (a seek before the media's metadata is in is dropped by some browsers).

export function lineAt (lines, seconds) {
  let found = null
  for (const line of lines) {
    if (parseFloat(line.dataset.start) <= seconds + 0.01) found = line
    else break
  }
  return found
}

export function mark (lines, line, currentClass) {
  for (const other of lines) {
    const current = other === line
    other.classList.toggle(currentClass, current)
    if (current) other.setAttribute('aria-current', 'true')
    else other.removeAttribute('aria-current')
  }
}

export function seek (player, seconds) {
  if (player.readyState < 1) {
    player.addEventListener('loadedmetadata', () => { player.currentTime = seconds }, { once: true })
  }
  player.currentTime = seconds
}

export function play (player) {
  const played = player.play()
  if (played) played.catch(() => {}) // a browser may refuse to autoplay; the seek still stands
}

export function showCaptions (player) {
  const on = () => {
    for (const track of Array.from(player.textTracks)) {
      if (track.kind === 'captions' || track.kind === 'subtitles') track.mode = 'showing'
    }
  }
  on()
  // A track can arrive after the script ran, or the browser may reset its mode: turn it on again.
  player.textTracks.addEventListener('addtrack', on)
}
