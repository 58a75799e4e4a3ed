"""Turn an uploaded recording into the 16 kHz mono float32 samples Whisper expects.

Decoding goes through ``faster_whisper.decode_audio`` (PyAV, its own bundled FFmpeg
libraries); no ``ffmpeg`` program is run. Before decoding, the container is probed and only
ordinary audio/video containers are accepted: playlist demuxers such as HLS or concat open
other files named inside the upload, which would let a crafted "voice note" read local files
into a transcript.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000

# Demuxer names as FFmpeg reports them (a container may report several, comma-separated).
ALLOWED_CONTAINERS = frozenset(
    {
        "wav", "w64", "flac", "ogg", "mp3", "aac", "amr", "amrnb", "amrwb", "caf", "aiff",
        "au", "matroska", "webm", "mov", "mp4", "m4a", "3gp", "3g2", "avi", "asf", "mpeg",
        "mpegts", "flv",
    }
)  # fmt: skip


class AudioDecodeError(ValueError):
    """The file is not a recording we can decode (corrupt, unsupported or unsafe container)."""


def load_audio(source: str | Path | np.ndarray) -> np.ndarray:
    """Samples at 16 kHz mono float32; an empty array when the file has no audio track.

    Arrays are taken as already decoded at 16 kHz mono and only checked and converted.
    """
    if isinstance(source, np.ndarray):
        return _checked_array(source)
    path = Path(source)
    if not _has_audio_stream(path):
        return np.zeros(0, dtype=np.float32)
    return _decode(path)


def duration_seconds(samples: np.ndarray) -> float:
    return len(samples) / SAMPLE_RATE


def _checked_array(samples: np.ndarray) -> np.ndarray:
    if samples.ndim != 1:
        raise AudioDecodeError(f"expected mono samples (1-D array), got shape {samples.shape}")
    return np.ascontiguousarray(samples, dtype=np.float32)


def _has_audio_stream(path: Path) -> bool:
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            _check_container(container.format.name, path)
            return len(container.streams.audio) > 0
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(f"{path.name}: cannot read as audio or video ({exc})") from exc


def _check_container(format_name: str, path: Path) -> None:
    if not set(format_name.split(",")) & ALLOWED_CONTAINERS:
        raise AudioDecodeError(f"{path.name}: container {format_name!r} is not accepted for transcription")


def _decode(path: Path) -> np.ndarray:
    import av
    from faster_whisper import decode_audio

    try:
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(f"{path.name}: decoding failed ({exc})") from exc
    return np.asarray(samples, dtype=np.float32)
