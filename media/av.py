"""Voice notes and video diaries: probe, strip, and make what the browser and Whisper need.

Every step runs the ffmpeg program through :func:`media.ffmpeg.run_ffmpeg` (own process group,
``file,pipe`` protocol whitelist, wall-clock timeout, address-space limit); no decoder runs
inside this process. Order of work for an upload (``docs/audio-video.md``):

1. :func:`probe` — what is it, and is it within the caps? Refuses with :class:`MediaRejected`.
2. :func:`strip_metadata` — the master: a stream copy without location, artist, chapters,
   cover art or timed-metadata tracks, made before the first checksum.
3. :func:`make_proxy`, :func:`make_poster`, :func:`extract_audio_16k`,
   :func:`waveform_peaks` — derivatives of the master.

Why the probe is our own ``ffmpeg -i`` and not moviepy or PyAV
    moviepy 2.2's ``ffmpeg_parse_infos`` runs ``ffmpeg -hide_banner -i FILE`` with a fixed
    command line: no protocol whitelist, no forced demuxer, no timeout (``communicate()``
    waits forever) and no memory limit, and none can be passed in. moviepy 2.2.1 also pins
    ``pillow<12``, which would undo the Pillow security floor in ``setup.cfg``, so it is not
    a dependency at all. PyAV (already installed with faster-whisper) would parse hostile
    bytes inside the worker, with no timeout and no memory cap, and a demuxer crash would
    take the worker down. So the probe does what moviepy does — run ``ffmpeg -i`` and read
    the stream listing ffmpeg prints — but through the same sandbox and the same binary as
    every later step, so the probe sees exactly what the transcoder will see. Only a few
    fields are read, and a listing that does not parse is refused, never guessed.

Why the demuxer is forced
    The whitelist stops network access, but ``file`` must stay allowed, and an HLS or concat
    demuxer reads any local file a playlist names (HackerOne 242831). The container is first
    decided from the bytes by :func:`ingest.sniff.sniff` (which refuses playlists, concat
    lists and AVI outright), and every ffmpeg run is then told which demuxer to use
    (``-f mov``, ``-f matroska``...), all of which read only the one input.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import wave
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ingest.sniff import UnsupportedFile, sniff
from media.ffmpeg import MediaError, MediaRejected, MediaTimeout, readable_error, run_ffmpeg

__all__ = [
    "MediaError", "MediaRejected", "MediaTimeout", "NoAudio", "Probe", "probe", "strip_metadata",
    "extract_audio_16k", "make_proxy", "make_poster", "waveform_peaks",
]  # fmt: skip

# --- caps (module constants so a deployment or a test can change them) ---------------------------

VOICE_NOTE_MAX_SECONDS = 10 * 60
VIDEO_MAX_SECONDS = 5 * 60
# A phone stops a "5:00" recording a few frames late; that is not worth a refusal.
DURATION_GRACE_SECONDS = 1.0
# Shorter than this is a damaged or forged header (a zeroed sample table), not a recording.
MIN_SECONDS = 0.1
MAX_LONG_SIDE = 4096  # DCI 4K; UHD phones record 3840x2160
MAX_SHORT_SIDE = 2160
MAX_FPS = 120.0

PROBE_TIMEOUT_S = 30
REMUX_TIMEOUT_S = 120
TRANSCODE_TIMEOUT_S = 900
PROBE_MEMORY_MB = 512
REMUX_MEMORY_MB = 512
# Measured: a 4K 10-bit HEVC to 720p transcode with 2 threads needs ~370 MB resident and
# fails below ~700 MB of address space.
TRANSCODE_MEMORY_MB = 1536
# Pinned so that the memory cap above holds on a 32-core server as on a 2-core laptop.
THREADS = 2

SAMPLE_RATE = 16_000
PROXY_LONG_SIDE, PROXY_SHORT_SIDE = 1280, 720
POSTER_LONG_SIDE = 1280
PROXY_MAX_FPS = 60
PROXY_AUDIO_BITRATE = "128k"
PROXY_CRF = 23

# Media type from ingest.sniff -> (demuxer forced on every read, muxer for the stripped master).
_FORMATS = {
    "audio/wav": ("wav", "wav"),
    "audio/flac": ("flac", "flac"),
    "audio/mpeg": ("mp3", "mp3"),
    "audio/aac": ("aac", "adts"),
    "audio/amr": ("amr", "amr"),
    "audio/amr-wb": ("amr", "amr"),
    "audio/ogg": ("ogg", "ogg"),
    "audio/mp4": ("mov", "ipod"),
    "video/mp4": ("mov", "mp4"),
    "video/quicktime": ("mov", "mov"),
    "video/3gpp": ("mov", "3gp"),
    "video/3gpp2": ("mov", "3g2"),
    "audio/webm": ("matroska", "webm"),
    "video/webm": ("matroska", "webm"),
}
ALLOWED_DEMUXERS = frozenset(demuxer for demuxer, _ in _FORMATS.values())
_UNSUPPORTED = "Chorus can't use this kind of recording. Please choose an M4A, MP3, WAV or MP4 file."


class NoAudio(MediaError):
    """The recording has no sound track, so there is nothing to transcribe.

    Not a :class:`MediaRejected`: a silent video is a perfectly good upload; its transcript
    is simply empty, and the caller skips the audio derivatives.
    """


@dataclass(frozen=True)
class Probe:
    """What ffmpeg found in a file. ``container`` is the demuxer every later step is forced to.

    ``width``/``height`` are the coded size of the first video stream (before any rotation a
    phone asked for); ``fps`` is its average frame rate when ffmpeg could tell.
    """

    container: str
    duration: float
    has_audio: bool
    has_video: bool
    width: int | None
    height: int | None
    fps: float | None
    audio_codec: str | None
    video_codec: str | None
    media_type: str

    @property
    def kind(self) -> str:
        return "video" if self.has_video else "audio"


# --- probing ---------------------------------------------------------------------------------------


def probe(path: str | os.PathLike[str], *, media_type: str | None = None) -> Probe:
    """Identify ``path`` and check it against the caps; refuse with :class:`MediaRejected`.

    ``media_type`` is what :func:`ingest.sniff.sniff` said, when the caller already asked;
    otherwise the file is sniffed here. A damaged file raises :class:`MediaError`.
    """
    path = Path(path)
    media_type = media_type or _sniffed_media_type(path)
    demuxer = _demuxer_for(media_type)
    result = run_ffmpeg(
        input_args(path, demuxer), timeout=PROBE_TIMEOUT_S, memory_mb=PROBE_MEMORY_MB, check=False, loglevel="info"
    )
    found = _parse_listing(result.stderr, result.returncode, demuxer, media_type, path)
    if found.duration <= 0 and (found.has_audio or found.has_video):
        found = replace(found, duration=_scanned_duration(path, found))
    _check_caps(found)
    return found


def _sniffed_media_type(path: Path) -> str:
    try:
        sniffed = sniff(path)
    except UnsupportedFile as exc:
        raise MediaRejected(exc.message) from None
    if sniffed.kind_family == "image":
        raise MediaRejected("This file is a picture, not a sound recording or video. Please choose a recording.")
    return sniffed.media_type


def _demuxer_for(media_type: str) -> str:
    if media_type not in _FORMATS:
        raise MediaRejected(_UNSUPPORTED)
    return _FORMATS[media_type][0]


_INPUT_LINE = re.compile(r"^Input #0, ([\w,]+), from ", re.MULTILINE)
_DURATION = re.compile(r"^\s+Duration: (?:(\d+):(\d{2}):(\d{2}(?:\.\d+)?)|N/A)", re.MULTILINE)
_STREAM = re.compile(r"^\s+Stream #0:\d+\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$", re.MULTILINE)
_STREAM_INDEX = re.compile(r"^\s+Stream #0:(\d+)", re.MULTILINE)
# ", 1920x1080" after the pixel format; "(avc1 / 0x31637661)" must not match, hence the comma.
_SIZE = re.compile(r", (\d{1,6})x(\d{1,6})\b")
_RATE = re.compile(r", (\d+(?:\.\d+)?)(k?) (fps|tbr)\b")


def _parse_listing(stderr: str, returncode: int, demuxer: str, media_type: str, path: Path) -> Probe:
    if _INPUT_LINE.search(stderr) is None:
        raise MediaError(readable_error(stderr, [_file_url(path)], returncode), stderr)
    _check_unambiguous(stderr)
    video = _first_stream(stderr, "Video")
    audio = _first_stream(stderr, "Audio")
    width, height = _size(video)
    return Probe(
        container=demuxer,
        duration=_duration(stderr),
        has_audio=audio is not None,
        has_video=video is not None,
        width=width,
        height=height,
        fps=_fps(video),
        audio_codec=_codec(audio),
        video_codec=_codec(video),
        media_type=media_type,
    )


def _check_unambiguous(stderr: str) -> None:
    """Refuse a listing that a file's own tags have added lines to.

    ffmpeg prints metadata *keys* verbatim, newlines included, and MP4 ``mdta`` keys are
    arbitrary bytes, so a crafted file can print a second "Duration: 00:00:01.00" or a fake
    "Stream #0:0" line ahead of the real ones (moviepy's parser is fooled the same way). The
    real listing has exactly one duration and its streams numbered 0, 1, 2... in order.
    """
    indices = [int(index) for index in _STREAM_INDEX.findall(stderr)]
    if len(_DURATION.findall(stderr)) != 1 or indices != list(range(len(indices))):
        raise MediaRejected(
            "This file describes itself in a confusing way, so it can't be used safely. "
            "Please save or export the recording again and choose the new copy."
        )


def _first_stream(stderr: str, kind: str) -> str | None:
    for match in _STREAM.finditer(stderr):
        # Cover art is listed as a video stream; it is a picture, not the recording.
        if match.group(1) == kind and "(attached pic)" not in match.group(2):
            return match.group(2)
    return None


def _codec(details: str | None) -> str | None:
    return None if details is None else details.split(maxsplit=1)[0].rstrip(",")


def _duration(stderr: str) -> float:
    """Seconds, or 0.0 when ffmpeg could not tell (``Duration: N/A``)."""
    match = _DURATION.search(stderr)
    if match is None or match.group(1) is None:
        return 0.0
    return _seconds(*match.groups())


def _seconds(hours: str, minutes: str, seconds: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _size(details: str | None) -> tuple[int | None, int | None]:
    match = _SIZE.search(details or "")
    return (int(match.group(1)), int(match.group(2))) if match else (None, None)


def _fps(details: str | None) -> float | None:
    rates = {unit: float(value) * (1000 if k else 1) for value, k, unit in _RATE.findall(details or "")}
    return rates.get("fps", rates.get("tbr"))


_LAST_TIME = re.compile(r"time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def _scanned_duration(path: Path, found: Probe) -> float:
    """Length from the packets themselves, for files whose header has none.

    Browsers' MediaRecorder and other streaming writers leave WebM without a duration. The
    packets are copied to nowhere (no decoding), and never past the cap, so a file that would
    run for hours costs no more than one at the limit.
    """
    limit = _limit_for(found) + DURATION_GRACE_SECONDS + 1
    result = run_ffmpeg(
        [*input_args(path, found.container), "-map", "0:V?", "-map", "0:a?", "-c", "copy", "-t", f"{limit:g}",
         "-map_metadata", "-1", "-f", "null", "-"],
        timeout=PROBE_TIMEOUT_S, memory_mb=PROBE_MEMORY_MB, loglevel="info",
    )  # fmt: skip
    times = _LAST_TIME.findall(result.stderr)
    # The last report is the final one, printed after everything the file itself could add.
    return _seconds(*times[-1]) if times else 0.0


def _limit_for(found: Probe) -> float:
    return VIDEO_MAX_SECONDS if found.has_video else VOICE_NOTE_MAX_SECONDS


# --- caps ------------------------------------------------------------------------------------------


def _check_caps(found: Probe) -> None:
    if not (found.has_audio or found.has_video):
        raise MediaRejected("This file has no sound or pictures in it. Please choose the recording itself.")
    if found.has_video:
        _check_picture(found)
    if not math.isfinite(found.duration) or found.duration < MIN_SECONDS:
        raise MediaRejected(
            "Chorus can't tell how long this recording is, so it may be damaged. Please record or save it again."
        )
    limit = _limit_for(found)
    if found.duration > limit + DURATION_GRACE_SECONDS:
        what = "video" if found.has_video else "recording"
        raise MediaRejected(
            f"This {what} is {_spoken(found.duration)} long; a {what} can be at most {_spoken(limit)}. "
            f"Please trim it or split it into shorter parts."
        )


def _check_picture(found: Probe) -> None:
    if found.width is None or found.height is None or found.width <= 0 or found.height <= 0:
        raise MediaRejected("Chorus can't tell the picture size of this video, so it may be damaged.")
    long_side, short_side = max(found.width, found.height), min(found.width, found.height)
    if long_side > MAX_LONG_SIDE or short_side > MAX_SHORT_SIDE:
        raise MediaRejected(
            f"This video is {found.width}×{found.height} pixels, bigger than 4K. "
            f"Please record at 4K or lower, or export a smaller copy."
        )
    if found.fps is not None and found.fps > MAX_FPS:
        raise MediaRejected(
            f"This video has {found.fps:g} frames a second (more than {MAX_FPS:g}). If it was filmed in slow "
            f"motion, please export it at normal speed first."
        )


def _spoken(seconds: float) -> str:
    if seconds >= 3600:
        return _plural(round(seconds / 3600, 1), "hour")
    if seconds >= 60:
        return _plural(round(seconds / 60, 1), "minute")
    return _plural(round(seconds), "second")


def _plural(amount: float, unit: str) -> str:
    return f"{amount:g} {unit}" + ("" if amount == 1 else "s")


# --- shared command pieces ---------------------------------------------------------------------------


def input_args(path: Path, demuxer: str, *, seek: float | None = None) -> list[str]:
    if demuxer not in ALLOWED_DEMUXERS:
        raise MediaRejected(_UNSUPPORTED)
    seeking = ["-ss", f"{seek:.3f}"] if seek else []
    # "file:" keeps a name such as "concat:a|b" or "-x.mp4" from being read as anything else.
    return [*seeking, "-threads", str(THREADS), "-f", demuxer, "-i", _file_url(path)]


def _file_url(path: Path) -> str:
    return "file:" + os.path.abspath(path)


# Global, per-stream and chapter metadata off; no encoder tag or timestamps written, so the same
# input always gives the same bytes (and the same checksum).
_NO_METADATA = ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]


@contextlib.contextmanager
def atomic_output(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary name beside ``dst``, renamed onto it only when the step succeeded."""
    dst = Path(dst)
    part = dst.with_name(f".{dst.name}.part")
    try:
        yield part
        if not part.exists() or part.stat().st_size == 0:
            raise MediaError(f"ffmpeg produced no output for {dst.name}")
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)


# --- the master ------------------------------------------------------------------------------------


def strip_metadata(src: str | os.PathLike[str], dst: str | os.PathLike[str], probe: Probe) -> None:
    """Write the master: the same audio/video bits in the same kind of container, nothing else.

    Kept: every real video stream and every audio stream, copied without re-encoding.
    Dropped: global and per-stream tags (location, ISO6709, artist, creation time, device),
    chapters, cover art (an attached picture may itself be a photo of the child), subtitle,
    data and timed-metadata tracks (iPhone ``mebx``, GoPro GPS).
    """
    muxer = _FORMATS.get(probe.media_type, (None, None))[1]
    if muxer is None:
        raise MediaRejected(_UNSUPPORTED)
    with atomic_output(dst) as part:
        run_ffmpeg(
            [*input_args(Path(src), probe.container), "-map", "0:V?", "-map", "0:a?", "-c", "copy",
             *_NO_METADATA, *_muxer_options(muxer), "-f", muxer, _file_url(part)],
            timeout=REMUX_TIMEOUT_S,
            memory_mb=REMUX_MEMORY_MB,
        )  # fmt: skip


def _muxer_options(muxer: str) -> list[str]:
    # The MP3 muxer writes an ID3 tag even when empty; none at all is simpler to audit.
    return ["-id3v2_version", "0", "-write_id3v1", "0"] if muxer == "mp3" else []


# --- audio for Whisper and the waveform ---------------------------------------------------------------


def extract_audio_16k(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], probed: Probe | None = None
) -> None:
    """16 kHz mono 16-bit PCM WAV of the first sound track, as Whisper wants it.

    ``probed`` saves a second probe when the caller has one. Raises :class:`NoAudio` when
    there is no sound track.
    """
    src = Path(src)
    found = probed or probe(src)
    if not found.has_audio:
        raise NoAudio(f"{src.name} has no sound track")
    with atomic_output(dst) as part:
        run_ffmpeg(
            [*input_args(src, found.container), "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE),
             "-c:a", "pcm_s16le", *_duration_cap(found), *_NO_METADATA, "-f", "wav", _file_url(part)],
            timeout=TRANSCODE_TIMEOUT_S,
            memory_mb=TRANSCODE_MEMORY_MB,
        )  # fmt: skip


def _duration_cap(found: Probe) -> list[str]:
    # The header was checked, but the packets may run on past it; never render more than the cap.
    return ["-t", f"{_limit_for(found) + DURATION_GRACE_SECONDS:g}"]


def waveform_peaks(wav_path: str | os.PathLike[str], buckets: int = 800) -> list[float]:
    """``buckets`` peak levels, 0.0 (silence) to 1.0 (full scale), from a 16-bit mono WAV.

    Full scale is the reference rather than the loudest sample, so a quiet recording looks
    quiet and pure silence is a flat line instead of amplified noise.
    """
    if buckets <= 0:
        raise ValueError("buckets must be positive")
    samples = np.abs(_read_pcm16(Path(wav_path)).astype(np.int32))
    edges = np.linspace(0, len(samples), buckets + 1).astype(np.int64)
    peaks = np.zeros(buckets, dtype=np.float64)
    for i, (start, end) in enumerate(zip(edges[:-1], edges[1:])):
        if end > start:
            peaks[i] = samples[start:end].max() / 32768.0
    return np.clip(peaks, 0.0, 1.0).tolist()


def _read_pcm16(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise MediaError(f"{path.name}: expected 16-bit mono WAV from extract_audio_16k")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


# --- what the browser plays ---------------------------------------------------------------------------

# Fit inside 1280x720 (portrait: 720x1280), never enlarge, keep the aspect ratio, even sizes
# for H.264's 4:2:0. Applied after ffmpeg's automatic rotation, so iw/ih are as displayed.
_PROXY_SCALE = (
    f"scale=w='if(gte(iw,ih),min(iw,{PROXY_LONG_SIDE}),min(iw,{PROXY_SHORT_SIDE}))'"
    f":h='if(gte(iw,ih),min(ih,{PROXY_SHORT_SIDE}),min(ih,{PROXY_LONG_SIDE}))'"
    ":force_original_aspect_ratio=decrease:force_divisible_by=2"
)
_POSTER_SCALE = (
    f"scale=w='min(iw,{POSTER_LONG_SIDE})':h='min(ih,{POSTER_LONG_SIDE})'"
    ":force_original_aspect_ratio=decrease"
)
# Mono stays mono, surround folds to stereo; 44.1/48 kHz are the rates every AAC decoder takes.
_PROXY_AUDIO = [
    "-af", "aformat=channel_layouts=mono|stereo:sample_rates=48000|44100",
    "-c:a", "aac", "-b:a", PROXY_AUDIO_BITRATE,
]  # fmt: skip


def make_proxy(src: str | os.PathLike[str], dst: str | os.PathLike[str], probe: Probe) -> None:
    """A copy every browser plays: H.264 + AAC in MP4 (≤720p) for video, AAC in M4A for sound.

    AAC rather than Opus for sound: Safari on the iPads and older iPhones schools use plays
    AAC everywhere but Opus only in recent versions and containers, and the video proxy
    needs AAC anyway, so one audio codec covers every player.
    """
    args = _video_proxy_args(probe) if probe.has_video else _audio_proxy_args()
    with atomic_output(dst) as part:
        run_ffmpeg(
            [*input_args(Path(src), probe.container), *args, *_duration_cap(probe), *_NO_METADATA,
             "-movflags", "+faststart", "-f", "mp4" if probe.has_video else "ipod", _file_url(part)],
            timeout=TRANSCODE_TIMEOUT_S,
            memory_mb=TRANSCODE_MEMORY_MB,
        )  # fmt: skip


def _audio_proxy_args() -> list[str]:
    return ["-map", "0:a:0", *_PROXY_AUDIO]


def _video_proxy_args(probe: Probe) -> list[str]:
    audio = _PROXY_AUDIO if probe.has_audio else []
    return [
        "-map", "0:V:0", "-map", "0:a:0?",
        "-vf", f"{_PROXY_SCALE},format=yuv420p",
        # High profile, 8-bit 4:2:0: what every browser's hardware decoder takes (10-bit phone
        # HDR would otherwise come out as High 10, which most browsers refuse).
        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(PROXY_CRF), "-profile:v", "high",
        "-threads", str(THREADS), "-fpsmax", str(PROXY_MAX_FPS),
        *audio,
    ]  # fmt: skip


def make_poster(src: str | os.PathLike[str], dst: str | os.PathLike[str], probe: Probe) -> None:
    """A JPEG still, at most 1280 px on its long side, from 1 s in (10% in for short clips).

    Not the first frame: phone videos often open on black or on a blur while the camera
    settles. If the seek finds no frame (a damaged tail), the first frame is used.
    """
    if not probe.has_video:
        raise ValueError("make_poster needs a video; check Probe.has_video first")
    at = min(1.0, probe.duration * 0.1)
    try:
        _poster_at(Path(src), dst, probe, at)
    except MediaError:
        if not at:
            raise
        _poster_at(Path(src), dst, probe, 0.0)


def _poster_at(src: Path, dst: str | os.PathLike[str], probe: Probe, at: float) -> None:
    with atomic_output(dst) as part:
        run_ffmpeg(
            [*input_args(src, probe.container, seek=at), "-map", "0:V:0", "-frames:v", "1",
             "-vf", f"{_POSTER_SCALE},format=yuvj420p", "-c:v", "mjpeg", "-q:v", "3",
             *_NO_METADATA, "-f", "image2", "-update", "1", _file_url(part)],
            timeout=TRANSCODE_TIMEOUT_S,
            memory_mb=TRANSCODE_MEMORY_MB,
        )  # fmt: skip
