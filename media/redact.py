"""Making redacted copies: pictures with regions blurred, recordings with stretches bleeped.

Boxes are fractions of the upright picture (``archive.curation.redaction``), so one set of boxes
serves the web image, the thumbnail, a video's poster and the video itself. A blurred region is
first pixelated to blocks a sixth of its short side and then blurred: a plain Gaussian blur of
a face can be partly undone, a coarse mosaic cannot. Sound is silenced and a quiet 1 kHz tone
played over the silence, so a listener knows something was taken out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageFilter

from . import av, images
from .ffmpeg import run_ffmpeg

BLEEP_HZ = 1000
BLEEP_VOLUME = 0.15
JPEG_QUALITY = 85
# Blocks across the short side of a region: at 6 a face is a few patches of skin and hair colour,
# and the face detector no longer finds one (tests/test_redaction.py checks that).
BLOCKS_ACROSS = 6


@dataclass(frozen=True)
class Box:
    """A region as fractions (0 to 1) of the upright picture's width and height."""

    x: float
    y: float
    width: float
    height: float

    def pixels(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in a picture of `size`, grown to whole pixels, never empty."""
        w, h = size
        left, top = int(self.x * w), int(self.y * h)
        right = min(w, max(left + 1, -int(-(self.x + self.width) * w)))
        bottom = min(h, max(top + 1, -int(-(self.y + self.height) * h)))
        return left, top, right, bottom


def _obscure(region: Image.Image) -> Image.Image:
    w, h = region.size
    block = max(1, min(w, h) // BLOCKS_ACROSS)
    mosaic = region.resize((max(1, w // block), max(1, h // block)), Image.Resampling.BOX)
    mosaic = mosaic.resize((w, h), Image.Resampling.NEAREST)
    return mosaic.filter(ImageFilter.GaussianBlur(radius=block))


def blur_picture(src: str | os.PathLike[str], dst: str | os.PathLike[str], boxes: Sequence[Box],
                 long_side: int | None = None) -> tuple[int, int]:
    """Write `src` (an upright derivative) as a JPEG with `boxes` obscured; returns its size.

    With `long_side`, the copy is also scaled down (a thumbnail from the redacted web image).
    """
    with images.open_image(src) as opened:
        picture = opened.convert("RGB")
    for box in boxes:
        area = box.pixels(picture.size)
        picture.paste(_obscure(picture.crop(area)), area[:2])
    if long_side is not None:
        picture.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    part = Path(dst).with_name(f".{Path(dst).name}.part")
    picture.save(part, "JPEG", quality=JPEG_QUALITY, optimize=True)
    os.replace(part, dst)
    return picture.size


def _between(ranges: Sequence[tuple[float, float]]) -> str:
    return "+".join(f"between(t,{start:.3f},{end:.3f})" for start, end in ranges)


def _sound_filter(ranges: Sequence[tuple[float, float]], duration: float) -> str:
    during = _between(ranges)
    return (
        f"[0:a]volume=0:enable='{during}'[muted];"
        f"sine=frequency={BLEEP_HZ}:sample_rate=44100:duration={duration:.3f},"
        f"volume={BLEEP_VOLUME},volume=0:enable='not({during})'[tone];"
        "[muted][tone]amix=inputs=2:duration=first:normalize=0[a]"
    )


def _even(n: int) -> int:
    return max(2, n - n % 2)  # 4:2:0 video has chroma at half resolution: regions on even pixels


def _picture_filter(boxes: Sequence[Box], size: tuple[int, int]) -> tuple[str, str]:
    """A filtergraph that pixelates each box in every frame; returns it and its output label."""
    chain, last = [], "0:v"
    for number, box in enumerate(boxes):
        left, top, right, bottom = box.pixels(size)
        left, top = left - left % 2, top - top % 2
        w, h = _even(min(right, size[0]) - left), _even(min(bottom, size[1]) - top)
        chain.append(
            f"[{last}]split[base{number}][cut{number}];"
            f"[cut{number}]crop={w}:{h}:{left}:{top},scale=max(1\\,iw/6):max(1\\,ih/6),"
            f"scale={w}:{h}:flags=neighbor[blur{number}];"
            f"[base{number}][blur{number}]overlay={left}:{top}[v{number}]"
        )
        last = f"v{number}"
    return ";".join(chain), last


def redact_recording(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                     sound: Sequence[tuple[float, float]] = (), boxes: Sequence[Box] = ()) -> None:
    """Re-encode a proxy (MP4 video or M4A sound) with `sound` stretches bleeped and `boxes` blurred."""
    src = Path(src)
    probed = av.probe(src)
    graph, maps = [], []
    if probed.has_video:
        if boxes:
            picture, last = _picture_filter(boxes, (probed.width, probed.height))
            graph.append(picture)
            maps += ["-map", f"[{last}]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                     "-pix_fmt", "yuv420p"]
        else:
            maps += ["-map", "0:v:0", "-c:v", "copy"]
    if probed.has_audio:
        if sound:
            graph.append(_sound_filter(sound, probed.duration))
            maps += ["-map", "[a]"]
        else:
            maps += ["-map", "0:a:0"]
        maps += ["-c:a", "aac", "-b:a", "96k"]
    filters = ["-filter_complex", ";".join(graph)] if graph else []
    container = "mp4" if probed.has_video else "ipod"
    with av.atomic_output(dst) as part:
        run_ffmpeg(
            [*av.input_args(src, probed.container), *filters, *maps,
             "-map_metadata", "-1", "-fflags", "+bitexact", "-movflags", "+faststart",
             "-f", container, "file:" + os.path.abspath(part)],
            timeout=av.TRANSCODE_TIMEOUT_S,
            memory_mb=av.TRANSCODE_MEMORY_MB,
        )
