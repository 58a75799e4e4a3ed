"""Safe image handling: open under caps, strip identifying metadata, make web sizes.

Every image Chorus keeps passes through here: at acceptance (in the upload request or the bulk
importer, which strip the upload and make the web image and thumbnail) and in the pipeline's
worker (detectors, and derivatives for items accepted before acceptance made them):

* :func:`open_image` lets only the JPEG, PNG, WebP, GIF and HEIF decoders near the bytes
  (``Image.open(formats=...)``), refuses anything over :data:`MAX_PIXELS` before a pixel is
  decoded, and turns damaged or truncated files into :class:`BadImage`.
* :func:`strip_metadata` writes the *master*, the only copy kept: no EXIF (so no GPS, maker
  notes, serial numbers or embedded thumbnail), no XMP, IPTC, comments or trailing data.
  JPEGs keep their exact compressed pixels; other formats are re-encoded with the
  orientation applied. The upload itself still holds the location, so callers strip before
  the first checksum and keep only the master.
* :func:`make_derivatives` decodes a master once and writes a web image and a thumbnail;
  :func:`strip_metadata` can write them too, from the decode that checks the upload, so a
  picture taken in is decoded once in all.
* :func:`scaled_upright` gives the detectors (OCR, faces) a small upright copy to look at.

``docs/media-safety.md`` explains each decision and cap.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

# 64 MP covers every phone's default mode and scanned A3 drawings at 300 dpi, and bounds a
# decode to about 256 MB (RGBA); Pillow's own default is 89 MP and only a warning.
MAX_PIXELS = 64_000_000
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF")
WEB_LONG_SIDE = 1600
THUMB_LONG_SIDE = 320
WEB_QUALITY = 85
THUMB_QUALITY = 80
# HEIC becomes JPEG because browsers other than Safari cannot show HEIC.
HEIC_MASTER_QUALITY = 92

MEDIA_TYPE_OF_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "HEIF": "image/heic",
}
_FORMAT_OF_MEDIA_TYPE = {**{v: k for k, v in MEDIA_TYPE_OF_FORMAT.items()}, "image/heif": "HEIF"}

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Keep two freed image blocks (16 MB at most each) for the next picture instead of returning them
# to the system: a photo's decode, resize and turn need fresh memory each time, and faulting it in
# again costs about 8 ms a photo. An operator's PILLOW_BLOCKS_MAX still wins.
if "PILLOW_BLOCKS_MAX" not in os.environ:
    Image.core.set_blocks_max(2)
# Thumbnails, depth maps and auxiliary images inside a HEIC are never needed: don't parse them.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Decoders report broken input through any of these; none of them is a bug in our code.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, KeyError)

_UNREADABLE = (
    "Chorus can't read this picture: it may be damaged, incomplete, or not a photo at all. "
    "Please choose the original photo (JPEG, PNG, HEIC, WebP or GIF)."
)
_DAMAGED = (
    "This picture is damaged or incomplete (it may not have finished uploading), so it can't "
    "be used. Please try again with the original photo."
)
_MISMATCH = (
    "This file's contents don't match the kind of picture it claims to be, so it can't be used. "
    "Please save the picture again and choose the new copy."
)


class BadImage(Exception):
    """The image can't be used; ``message`` is written for a child's facilitator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImageTooLarge(BadImage):
    """More pixels than :data:`MAX_PIXELS`; refused before decoding."""


@dataclass(frozen=True)
class StrippedImage:
    """The master as written. ``width``/``height`` are as displayed, orientation applied.

    ``reencoded`` is False when the pixels are the upload's own (JPEG); ``first_frame_only``
    is True when an animation was reduced to its first frame. ``derivatives`` holds the web
    image and thumbnail when they were asked for (as :func:`make_derivatives` returns them).
    """

    media_type: str
    width: int
    height: int
    reencoded: bool = True
    first_frame_only: bool = False
    derivatives: dict[str, DerivativeInfo] = field(default_factory=dict)


@dataclass(frozen=True)
class DerivativeInfo:
    path: Path
    media_type: str
    width: int
    height: int


# --- opening -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _bomb_checks_fatal() -> Iterator[None]:
    # The GIF decoder re-checks frame sizes while loading, so the filter wraps loads as well
    # as opens. Warning filters are process-wide and not thread-safe, which is why
    # _check_pixels repeats the test explicitly instead of relying on this alone.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _too_large(size: tuple[int, int] | None = None) -> ImageTooLarge:
    shown = f" ({size[0]:,} × {size[1]:,} pixels)" if size else ""
    return ImageTooLarge(
        f"This picture is too big to use{shown}. Chorus takes pictures of up to "
        f"{MAX_PIXELS // 1_000_000} megapixels; please make it smaller and try again."
    )


def _check_pixels(img: Image.Image) -> None:
    if img.width * img.height > MAX_PIXELS:
        raise _too_large(img.size)


def open_image(path: str | os.PathLike[str]) -> ImageFile.ImageFile:
    """Open ``path`` lazily with only the allowed decoders; use it as a context manager.

    Raises :class:`ImageTooLarge` from the header alone, :class:`BadImage` for anything the
    allowed decoders can't identify.
    """
    try:
        with _bomb_checks_fatal():
            img = Image.open(Path(path), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except UnidentifiedImageError as exc:
        raise BadImage(_UNREADABLE) from exc
    except _DECODE_ERRORS as exc:
        raise BadImage(_DAMAGED) from exc
    try:
        _check_pixels(img)
    except ImageTooLarge:
        img.close()
        raise
    return img


def _decode(img: Image.Image) -> None:
    """Decode the current frame fully; a truncated or corrupt file raises BadImage."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Something in this process switched Pillow to accept half images; refuse to run so
        # a half-decoded picture is never stored as a master.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    try:
        with _bomb_checks_fatal():
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except _DECODE_ERRORS as exc:
        raise BadImage(_DAMAGED) from exc


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _displayed_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size


def _oriented(img: Image.Image, orientation: int) -> Image.Image:
    """``img`` turned upright: a new image, or ``img`` itself when it already is."""
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return img.transpose(method) if method is not None else img


def _is_animated(img: Image.Image) -> bool:
    try:
        return bool(getattr(img, "is_animated", False))
    except _DECODE_ERRORS:
        return True


# --- writing files -------------------------------------------------------------------------------


def _write_atomically(dst: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary sibling so a failure never leaves a half-written file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.part")
    try:
        write(tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _bare(img: Image.Image, keep_icc: bool) -> Image.Image:
    """The same pixels with no metadata that an encoder could copy from ``info``.

    Pillow's JPEG encoder falls back to ``info["comment"]`` and the PNG encoder to
    ``info["icc_profile"]``, so clearing ``info`` is what keeps metadata out of outputs.
    """
    kept = {}
    if keep_icc and img.info.get("icc_profile"):
        kept["icc_profile"] = img.info["icc_profile"]
    if img.mode in ("P", "L", "RGB") and "transparency" in img.info:
        kept["transparency"] = img.info["transparency"]
    img.info = kept
    return img


# --- the master ----------------------------------------------------------------------------------


def strip_metadata(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    expected_media_type: str | None = None,
    derivatives_dir: str | os.PathLike[str] | None = None,
) -> StrippedImage:
    """Write the cleaned master of ``src`` to ``dst`` and describe it.

    ``expected_media_type`` is what :func:`ingest.sniff.sniff` found; when the decoder
    disagrees the file is refused, so a polyglot can't pass as one type and parse as another.
    Nothing is written at ``dst`` unless the whole image decoded. With ``derivatives_dir``
    the web image and thumbnail are written there too, from that same decode.
    """
    src, dst = Path(src), Path(dst)
    out = Path(derivatives_dir) if derivatives_dir is not None else None
    with open_image(src) as img:
        _check_expected_format(img, expected_media_type)
        if _format(img) == "JPEG":
            return _strip_jpeg(src, dst, img, out)
        return _reencode_master(img, dst, out)


def _format(img: Image.Image) -> str | None:
    # Pillow's JPEG opener reports a phone photo carrying extra pictures (HDR gain map, depth
    # map) as "MPO"; its first picture is an ordinary JPEG and the extras are dropped.
    return "JPEG" if img.format == "MPO" else img.format


def _check_expected_format(img: Image.Image, expected_media_type: str | None) -> None:
    if expected_media_type is None:
        return
    if _FORMAT_OF_MEDIA_TYPE.get(expected_media_type.lower()) != _format(img):
        raise BadImage(_MISMATCH)


def _strip_jpeg(src: Path, dst: Path, img: ImageFile.ImageFile, derivatives_dir: Path | None) -> StrippedImage:
    orientation = _orientation(img)
    size, mode = img.size, img.mode
    web = None
    if derivatives_dir is not None:
        web = _web_frame(img)  # a decode at the web image's scale reads every block too: it is the check
    else:
        # Decoding at 1/8 scale still Huffman-decodes every block, so truncation and corruption
        # are caught with 1/64 of the memory of a full decode.
        img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
        _decode(img)
    cleaned = jpeg_without_metadata(src.read_bytes(), orientation)

    def write(tmp: Path) -> None:
        tmp.write_bytes(cleaned)
        _verify_same_jpeg(tmp, size, mode)

    _write_atomically(dst, write)
    width, height = _displayed_size(size, orientation)
    derivatives = _save_derivatives(web, derivatives_dir) if web is not None else {}
    return StrippedImage("image/jpeg", width, height, reencoded=False, derivatives=derivatives)


def _verify_same_jpeg(path: Path, size: tuple[int, int], mode: str) -> None:
    with Image.open(path, formats=["JPEG"]) as check:
        if check.size != size or check.mode != mode:
            raise BadImage(_DAMAGED)


def _reencode_master(img: ImageFile.ImageFile, dst: Path, derivatives_dir: Path | None) -> StrippedImage:
    source_format = _format(img)
    first_frame_only = _is_animated(img)
    if first_frame_only:
        img.seek(0)
    _decode(img)
    frame = _bare(_oriented(img, _orientation(img)), keep_icc=True)
    media_type, save = _master_encoder(source_format, frame)
    _write_atomically(dst, save)
    derivatives = {}
    if derivatives_dir is not None:
        web = _web_ready(_shrunk(_resizable(frame), _fit(frame.size, WEB_LONG_SIDE)), frame.info.get("icc_profile"))
        derivatives = _save_derivatives(web, derivatives_dir)
    return StrippedImage(media_type, frame.width, frame.height, True, first_frame_only, derivatives)


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _master_encoder(
    source_format: str | None, frame: Image.Image
) -> tuple[str, Callable[[Path], None]]:
    if source_format == "WEBP":
        icc = frame.info.get("icc_profile", "")
        return "image/webp", lambda tmp: frame.save(
            tmp, "WEBP", lossless=True, exact=True, quality=100, icc_profile=icc
        )
    if source_format == "HEIF" and not _has_alpha(frame):
        rgb = _bare(frame.convert("RGB"), keep_icc=True) if frame.mode != "RGB" else frame
        return "image/jpeg", lambda tmp: rgb.save(tmp, "JPEG", quality=HEIC_MASTER_QUALITY, subsampling=0)
    # PNG, GIF (first frame) and HEIC with transparency: lossless.
    return "image/png", lambda tmp: frame.save(tmp, "PNG", optimize=False)


# --- JPEG without re-encoding --------------------------------------------------------------------

_EOI, _SOS, _COM = 0xD9, 0xDA, 0xFE
_APP0, _APP2, _APP14, _APP15 = 0xE0, 0xE2, 0xEE, 0xEF
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def jpeg_without_metadata(data: bytes, orientation: int = 1) -> bytes:
    """Rebuild a JPEG from its decoding segments only; the compressed pixels are copied as is.

    Kept: the JFIF header (without its thumbnail), ICC profile chunks, the Adobe segment
    (it says whether the channels are RGB, YCbCr or CMYK, so dropping it would change the
    decoded colours) and every table, frame and scan segment. Dropped: EXIF and XMP (APP1),
    Photoshop/IPTC (APP13), MPF and FlashPix (APP2), every other APPn, comments, and any
    bytes after the end-of-image marker (motion-photo videos, appended files). Orientation
    other than 1 comes back as a new EXIF block holding that one tag, so browsers still show
    the photo upright while its pixels stay byte-identical.
    """
    kept: list[bytes] = []
    seen_jfif = False
    for marker, segment in _jpeg_segments(data):
        if marker == _APP0 and not seen_jfif and segment[4:9] == b"JFIF\x00" and len(segment) >= 18:
            seen_jfif = True
            kept.append(b"\xff\xe0\x00\x10JFIF\x00" + segment[9:16] + b"\x00\x00")
        elif _is_decoding_segment(marker, segment):
            kept.append(segment)
    at = 1 if seen_jfif else 0
    if orientation != 1:
        kept.insert(at, _orientation_only_exif(orientation))
    return b"".join([b"\xff\xd8", *kept])


def _is_decoding_segment(marker: int, segment: bytes) -> bool:
    if marker == _APP2:
        return segment[4:16] == b"ICC_PROFILE\x00"
    if marker == _APP14:
        return segment[4:9] == b"Adobe"
    return not (_APP0 <= marker <= _APP15 or marker == _COM)


def _orientation_only_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[_ORIENTATION_TAG] = orientation
    payload = exif.tobytes()
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield ``(marker, bytes)`` for each segment after SOI, ending with EOI.

    Bytes between segments are skipped the way libjpeg skips them ("extraneous bytes before
    marker"), so what is copied is exactly what the decoder would have used.
    """
    if not data.startswith(b"\xff\xd8"):
        raise BadImage(_DAMAGED)
    pos = 2
    while True:
        pos, marker = _next_marker(data, pos)
        if marker == _EOI:
            yield marker, b"\xff\xd9"
            return
        if marker in _STANDALONE:
            yield marker, bytes((0xFF, marker))
            continue
        if pos + 2 > len(data):
            raise BadImage(_DAMAGED)
        end = pos + int.from_bytes(data[pos : pos + 2], "big")
        if end < pos + 2 or end > len(data):
            raise BadImage(_DAMAGED)
        if marker == _SOS:
            end = _entropy_end(data, end)
        yield marker, data[pos - 2 : end]  # the marker is the 0xFF and byte just before `pos`: one copy of a scan
        pos = end


def _next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """Position after the next marker byte, and the marker; fill bytes and junk are skipped."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0:
            raise BadImage(_DAMAGED)
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise BadImage(_DAMAGED)
        marker = data[pos]
        pos += 1
        if marker != 0x00:
            return pos, marker


# A marker ends a scan's compressed data: 0xFF followed by anything but a stuffed zero, a restart
# marker or another 0xFF (fill). Searched in C: a byte-by-byte loop in Python costs ~15 ms a photo.
_SCAN_END = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def _entropy_end(data: bytes, pos: int) -> int:
    """Where a scan's compressed data ends: the first marker that is not a restart marker."""
    found = _SCAN_END.search(data, pos)
    if found is None:
        raise BadImage(_DAMAGED)
    return found.start()


# --- derivatives ---------------------------------------------------------------------------------

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def make_derivatives(
    master_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]
) -> dict[str, DerivativeInfo]:
    """Write ``web.jpg`` (long side :data:`WEB_LONG_SIDE`) and ``thumb.jpg`` into ``out_dir``.

    The master is decoded once, already scaled down where the format allows it; the
    thumbnail is made from the web image. Outputs are sRGB JPEGs without any metadata,
    upright, with transparency flattened onto white. Small pictures are never enlarged.
    """
    with open_image(master_path) as img:
        web = _web_frame(img)
    return _save_derivatives(web, Path(out_dir))


def _save_derivatives(web: Image.Image, out_dir: Path) -> dict[str, DerivativeInfo]:
    thumb = _shrunk(web, _fit(web.size, THUMB_LONG_SIDE), reducing_gap=2.0)
    return {
        "web": _save_derivative(web, out_dir / "web.jpg", WEB_QUALITY, progressive=True),
        "thumb": _save_derivative(thumb, out_dir / "thumb.jpg", THUMB_QUALITY, progressive=False),
    }


# After the decoder's own 1/2-1/8 scaling (JPEG) or reduce() (other formats) the last step
# shrinks by less than 3x, where bicubic looks the same as Lanczos at three quarters of the
# cost (about 40 against 53 ms for 2000 -> 1600 px).
_RESAMPLE = Image.Resampling.BICUBIC


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _web_frame(img: ImageFile.ImageFile) -> Image.Image:
    """The web image's pixels from an opened, not yet decoded picture: the one decode it gets."""
    orientation = _orientation(img)
    icc = img.info.get("icc_profile")
    target = _fit(img.size, WEB_LONG_SIDE)
    if _is_animated(img):
        img.seek(0)
    # For JPEG, draft() makes libjpeg decode at 1/2, 1/4 or 1/8 scale (never below target);
    # other formats ignore it and are shrunk by reduce() inside resize(reducing_gap=...).
    img.draft("RGB", target)
    _decode(img)
    return _web_ready(_oriented(_shrunk(_resizable(img), target), orientation), icc)


def _shrunk(frame: Image.Image, target: tuple[int, int], reducing_gap: float = 3.0) -> Image.Image:
    """A new image at the target size (a copy when already there: the opened file is closed soon)."""
    return frame.copy() if frame.size == target else frame.resize(target, _RESAMPLE, reducing_gap=reducing_gap)


def _web_ready(frame: Image.Image, icc: bytes | None) -> Image.Image:
    return _flattened(_as_srgb(frame, icc))


def _resizable(img: Image.Image) -> Image.Image:
    """A mode that resizes with real filtering (Pillow resizes P and 1 with NEAREST only)."""
    if img.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return img
    if img.mode.startswith("I"):
        # 16-bit greyscale: scale to 8 bits; a plain convert would clip everything above 255.
        return img.convert("I").point(lambda value: value / 256).convert("L")
    return img.convert("RGBA" if _has_alpha(img) else "RGB")


def _as_srgb(frame: Image.Image, icc: bytes | None) -> Image.Image:
    """Pixels converted to sRGB so the derivatives can go without an ICC profile."""
    if not icc:
        return frame
    output_mode = "RGBA" if frame.mode in ("RGBA", "LA") else "RGB"
    source = frame.convert("RGBA") if frame.mode == "LA" else frame
    try:
        embedded = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(source, embedded, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A broken or unusual profile costs colour accuracy only; the picture is still right.
        return frame


def _flattened(frame: Image.Image) -> Image.Image:
    if frame.mode in ("RGBA", "LA"):
        rgba = frame.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return frame if frame.mode == "RGB" else frame.convert("RGB")


def _save_derivative(frame: Image.Image, path: Path, quality: int, progressive: bool) -> DerivativeInfo:
    frame = _bare(frame, keep_icc=False)
    _write_atomically(
        path, lambda tmp: frame.save(tmp, "JPEG", quality=quality, optimize=True, progressive=progressive)
    )
    return DerivativeInfo(path, "image/jpeg", frame.width, frame.height)


# --- pictures for the detectors ------------------------------------------------------------------


def scaled_upright(
    path: str | os.PathLike[str], long_side: int, *, resample: Image.Resampling, reducing_gap: float
) -> tuple[Image.Image, tuple[int, int]]:
    """RGB pixels turned upright and scaled to fit ``long_side``, plus the full upright size.

    Detectors report boxes in the scaled picture; the full size maps them back to the
    picture as people see it.
    """
    with open_image(path) as img:
        full_size = _displayed_size(img.size, _orientation(img))
        if img.format in ("JPEG", "MPO"):
            # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT: a phone photo costs a fraction.
            img.draft("RGB", (long_side, long_side))
        upright = ImageOps.exif_transpose(img).convert("RGB")
    upright.thumbnail((long_side, long_side), resample, reducing_gap=reducing_gap)
    return upright, full_size
