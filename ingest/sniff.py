"""Decide what an uploaded file is from its bytes, and refuse everything outside the allow-list.

The file name and the browser's ``Content-Type`` are never consulted: both are chosen by the
uploader. Only the content counts, and the answer is one of a short allow-list:

* images: JPEG, PNG, WebP, HEIC/HEIF, GIF
* audio: M4A/AAC, MP3, WAV, Ogg (Opus or Vorbis), WebM audio, FLAC, AMR
* video: MP4/MOV, WebM, 3GP

Everything else raises :class:`UnsupportedFile` whose message a child's facilitator can act on
("This file is a web page, not a photo..."), and whose ``reason`` is a short code for logs and
HTTP mapping.

Why puremagic
    The signature database comes from ``puremagic`` (pure Python, no C library, MIT, released
    regularly and still maintained in 2026, with a data-driven JSON signature table). The
    alternatives were weaker for an upload gate: ``python-magic`` binds libmagic, another C
    parser of hostile input that must be installed from the OS, and ``filetype`` has had no
    release since 2022 and cannot tell Opus from Vorbis or name HTML, SVG or playlists.
    puremagic is asked through ``magic_stream`` *without* a file name on purpose: with a name
    it raises the confidence of matches that agree with the extension and even falls back to
    a guess from the extension alone, which is exactly what an upload gate must not do.

What is read here, not in the library
    puremagic ranks matches by signature length, so siblings inside one container family come
    out in the wrong order (a HEIC ranks as "MP4", Theora video in Ogg as "Vorbis", Matroska
    as "WebM"), and it does not recognise HTML that starts with whitespace, ffmpeg concat
    lists or scripts. So three container families are settled by the one header field that
    defines them (the ISO-BMFF ``ftyp`` brands, the codec of Ogg's first packets, the EBML
    DocType), and text is classified by its opening, below. Deeper questions — is this MP4 or
    WebM audio-only? does it really decode? — belong to the decoders: :mod:`media.images`
    decodes images with a format allow-list, and containers that can hold either audio or
    video come back with ``needs_probe=True`` for the media prober.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import puremagic

Family = Literal["image", "audio", "video"]

# Enough for every signature we look at, the first Ogg pages and a WebM track list.
HEAD_BYTES = 64 * 1024
# A ZIP end-of-central-directory record is 22 bytes plus a comment of at most 65,535 bytes.
ZIP_TAIL_BYTES = 22 + 65_535


@dataclass(frozen=True)
class Sniffed:
    """What the content is. ``extension`` has its leading dot, ready for ``f"{uuid}{ext}"``.

    ``kind_family`` is final unless ``needs_probe`` is true: then the container can hold either
    audio or video and the family is only this module's best guess until a media probe says.
    """

    kind_family: Family
    media_type: str
    extension: str
    needs_probe: bool = False


class UnsupportedFile(Exception):
    """The file is not on the allow-list; ``message`` is written for a child's facilitator."""

    def __init__(self, message: str, reason: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


_WANTED = {
    "image": "a photo or drawing",
    "audio": "a sound recording",
    "video": "a video",
    None: "a photo, sound recording or video",
}
_CHOICES = {
    "image": "a photo (JPEG, PNG, HEIC, WebP or GIF)",
    "audio": "a sound recording (M4A, MP3, WAV, Ogg, FLAC, WebM or AMR)",
    "video": "a video (MP4, MOV, WebM or 3GP)",
    None: "a photo (JPEG, PNG, HEIC...), a sound recording (M4A, MP3, WAV...) or a video (MP4, MOV, WebM...)",
}

EMPTY_MESSAGE = (
    "This file is empty. It may not have finished saving or downloading; please choose it again."
)
SVG_MESSAGE = (
    "Drawings saved as SVG can't be used; please save or photograph it as a picture (PNG or JPEG)."
)
HIDDEN_ARCHIVE_MESSAGE = (
    "This file has another file (a ZIP archive) hidden inside it, so it can't be used. "
    "Please save or record it again and choose the new copy."
)


def sniff(path: str | os.PathLike[str], expect: Family | None = None) -> Sniffed:
    """Identify ``path`` by content; raise :class:`UnsupportedFile` for anything not allowed.

    ``expect`` only shapes the wording of refusals ("not a photo" rather than "not a photo,
    sound recording or video"); it never changes what is accepted.
    """
    with open(Path(path), "rb") as fh:
        head = fh.read(HEAD_BYTES)
        if not head:
            raise UnsupportedFile(EMPTY_MESSAGE, "empty")
        matches = _library_matches(fh)
        found = _identify(head, matches, expect)
        if found is not None:
            if _has_zip_trailer(fh):
                raise UnsupportedFile(HIDDEN_ARCHIVE_MESSAGE, "polyglot")
            return found
    raise _refusal(head, matches, expect)


# --- the library -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    extension: str
    name: str
    in_header: bool
    best: bool


def _library_matches(fh: BinaryIO) -> list[_Match]:
    fh.seek(0)
    try:
        found = puremagic.magic_stream(fh)
    except (puremagic.PureError, ValueError):
        return []
    finally:
        fh.seek(0)
    if not found:
        return []
    top = max(m.confidence for m in found)
    return [
        _Match(
            extension=str(m.extension).lower(),
            name=str(m.name),
            in_header=m.offset >= 0,
            best=m.confidence == top,
        )
        for m in found
    ]


# --- the allow-list ----------------------------------------------------------------------------

_JPEG = Sniffed("image", "image/jpeg", ".jpg")
_PNG = Sniffed("image", "image/png", ".png")
_GIF = Sniffed("image", "image/gif", ".gif")
_WEBP = Sniffed("image", "image/webp", ".webp")
_WAV = Sniffed("audio", "audio/wav", ".wav")
_FLAC = Sniffed("audio", "audio/flac", ".flac")
_MP3 = Sniffed("audio", "audio/mpeg", ".mp3")
_AAC = Sniffed("audio", "audio/aac", ".aac")
_AMR = Sniffed("audio", "audio/amr", ".amr")
_AMR_WB = Sniffed("audio", "audio/amr-wb", ".awb")

# Keyed by the extension puremagic reports for a signature at the start of the file.
_SINGLE_SIGNATURE = {
    ".jpg": _JPEG, ".jpeg": _JPEG, ".jfif": _JPEG, ".jpe": _JPEG,
    ".png": _PNG,
    ".gif": _GIF,
    ".webp": _WEBP,
    ".wav": _WAV,
    ".flac": _FLAC,
    ".mp3": _MP3, ".mpga": _MP3,
    ".aac": _AAC,
    ".amr": _AMR,
}  # fmt: skip


def _identify(head: bytes, matches: list[_Match], expect: Family | None) -> Sniffed | None:
    if head[4:8] == b"ftyp":
        return _from_ftyp(head, expect)
    if head.startswith(b"OggS"):
        return _from_ogg(head, expect)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _from_ebml(head, expect)
    # Only the library's most specific signatures count: a bare "RIFF" also matches WAV and
    # WebP at low confidence, which would let an AVI through as sound.
    for match in matches:
        if match.best and match.in_header and match.extension in _SINGLE_SIGNATURE:
            found = _SINGLE_SIGNATURE[match.extension]
            return _AMR_WB if found is _AMR and head.startswith(b"#!AMR-WB\n") else found
    return None


# ISO base media (MP4 family): the major brand says what the file claims to be.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_REFUSED_BRANDS = {
    b"avif": "an AVIF picture", b"avis": "an AVIF animation", b"crx ": "a Canon RAW photo",
    b"jxl ": "a JPEG XL picture", b"jp2 ": "a JPEG 2000 picture", b"f4v ": "a Flash video",
}  # fmt: skip


def _ftyp_brands(head: bytes) -> list[bytes]:
    declared = int.from_bytes(head[0:4], "big")
    end = min(max(declared, 16), len(head), 4096)
    return [head[8:12]] + [head[i : i + 4] for i in range(16, end - 3, 4)]


def _from_ftyp(head: bytes, expect: Family | None) -> Sniffed:
    brands = _ftyp_brands(head)
    major, compatible = brands[0], set(brands[1:])
    if major in _REFUSED_BRANDS:
        raise _unusable_media(_REFUSED_BRANDS[major], expect, "format")
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and compatible & _HEIC_BRANDS):
        return Sniffed("image", "image/heic", ".heic")
    if major in _HEIF_BRANDS:
        if compatible & {b"avif", b"avis"}:
            raise _unusable_media("an AVIF picture", expect, "format")
        return Sniffed("image", "image/heif", ".heif")
    if major in _AUDIO_MP4_BRANDS:
        return Sniffed("audio", "audio/mp4", ".m4a", needs_probe=True)
    if major == b"qt  ":
        return Sniffed("video", "video/quicktime", ".mov", needs_probe=True)
    if major.startswith(b"3g2"):
        return Sniffed("video", "video/3gpp2", ".3g2", needs_probe=True)
    if major.startswith(b"3gp") or major.startswith(b"3ge"):
        return Sniffed("video", "video/3gpp", ".3gp", needs_probe=True)
    # Cameras and phones use many brands (isom, mp42, MSNV, XAVC...); the probe decides.
    return Sniffed("video", "video/mp4", ".mp4", needs_probe=True)


def _from_ogg(head: bytes, expect: Family | None) -> Sniffed:
    if b"\x80theora" in head:
        raise _unusable_media("an Ogg video (Theora)", expect, "format")
    segments = head[26] if len(head) > 26 else 0
    first_packet = head[27 + segments : 27 + segments + 8]
    if first_packet.startswith(b"OpusHead"):
        return Sniffed("audio", "audio/ogg", ".opus")
    if first_packet.startswith(b"\x01vorbis"):
        return Sniffed("audio", "audio/ogg", ".ogg")
    raise _unusable_media("an Ogg file with a kind of sound Chorus can't use", expect, "format")


_EBML_DOCTYPE = re.compile(rb"\x42\x82[\x81-\x88](webm|matroska)")
# A Matroska CodecID element (0x86, one-byte size) whose value starts "V_" or "A_".
_EBML_VIDEO_CODEC = re.compile(rb"\x86[\x81-\xa0]V_")
_EBML_AUDIO_CODEC = re.compile(rb"\x86[\x81-\xa0]A_")


def _from_ebml(head: bytes, expect: Family | None) -> Sniffed:
    doctype = _EBML_DOCTYPE.search(head[:512])
    if doctype is None or doctype.group(1) != b"webm":
        raise _unusable_media("a Matroska (MKV) video", expect, "format")
    if _EBML_AUDIO_CODEC.search(head) and not _EBML_VIDEO_CODEC.search(head):
        return Sniffed("audio", "audio/webm", ".webm", needs_probe=True)
    return Sniffed("video", "video/webm", ".webm", needs_probe=True)


def _has_zip_trailer(fh: BinaryIO) -> bool:
    """True when the file ends with a ZIP directory, the mark of a GIFAR-style polyglot.

    The comment length must reach exactly to the end of the file, as ZIP readers require,
    so four chance bytes in compressed media do not trigger it.
    """
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - ZIP_TAIL_BYTES))
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if at + 22 <= len(tail) and int.from_bytes(tail[at + 20 : at + 22], "little") == len(tail) - at - 22:
            return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


# --- refusals ----------------------------------------------------------------------------------


def _not_media(what: str, expect: Family | None, reason: str) -> UnsupportedFile:
    return UnsupportedFile(
        f"This file is {what}, not {_WANTED[expect]}. Please choose {_CHOICES[expect]}.", reason
    )


def _unusable_media(what: str, expect: Family | None, reason: str) -> UnsupportedFile:
    return UnsupportedFile(
        f"This file is {what}, which Chorus can't use. Please choose {_CHOICES[expect]}.", reason
    )


def _refusal(head: bytes, matches: list[_Match], expect: Family | None) -> UnsupportedFile:
    # The library first: PDF, PostScript and FITS open with readable text and would
    # otherwise be called "a text file".
    for match in matches:
        named = _named_refusal(match, expect)
        if named is not None:
            return named
    text_kind = _text_kind(head)
    if text_kind == "svg":
        return UnsupportedFile(SVG_MESSAGE, "svg")
    if text_kind is not None:
        what, reason = _TEXT_KINDS[text_kind]
        return _not_media(what, expect, reason)
    return UnsupportedFile(
        f"Chorus can't tell what kind of file this is, so it can't be used. "
        f"Please choose {_CHOICES[expect]}.",
        "unknown",
    )


_TEXT_KINDS = {
    "html": ("a web page", "html"),
    "playlist": ("a playlist (a list of links to other files, not the recording itself)", "playlist"),
    "script": ("a computer program (a script)", "executable"),
    "xml": ("a data file (XML)", "document"),
    "text": ("a text file", "document"),
}
_HTML_OPENINGS = (
    "<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta", "<title",
    "<div", "<a ", "<p>", "<img", "<form", "<style", "<link",
)  # fmt: skip
_CONCAT_LINE = re.compile(r"^\s*file\s+\S", re.MULTILINE)


def _decoded_text(head: bytes) -> str | None:
    """The opening of ``head`` as text, or None when it is binary."""
    sample = head[:4096]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if sample.startswith(bom):
            return sample[len(bom) :].decode(codec, "replace")
    text = sample.decode("utf-8", "replace")
    odd = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f"))
    return text if odd <= len(text) // 100 else None


def _text_kind(head: bytes) -> str | None:
    text = _decoded_text(head)
    if text is None:
        return None
    opening = text.lstrip().lower()
    if opening.startswith(("#extm3u", "ffconcat", "[playlist]", "<asx", "<smil")) or "#ext-x-" in opening:
        return "playlist"
    if _CONCAT_LINE.search(opening):
        return "playlist"
    if "<svg" in opening[:2048] and opening.startswith(("<svg", "<?xml", "<!doctype svg", "<!--")):
        return "svg"
    if opening.startswith(_HTML_OPENINGS) or "<html" in opening[:2048]:
        return "html"
    if opening.startswith(("#!", "<?php", "<%")) or "<?php" in opening:
        return "script"
    if opening.startswith("<?xml"):
        return "xml"
    return "text"


_EXECUTABLE_EXTENSIONS = {".exe", ".dll", ".msi", ".com", ".scr", ".sys", ".class", ".dex"}
_ARCHIVE_EXTENSIONS = {
    ".zip", ".jar", ".apk", ".epub", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".kmz",
}  # fmt: skip
_OTHER_ARCHIVES = {".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".zst", ".cab", ".iso"}
_UNUSABLE_MEDIA = {
    ".tif": "a TIFF picture", ".tiff": "a TIFF picture", ".bmp": "a BMP picture",
    ".psd": "a Photoshop file", ".eps": "a PostScript drawing", ".ps": "a PostScript drawing",
    ".ai": "an Illustrator drawing", ".ico": "an icon", ".fits": "a FITS science image",
    ".jxl": "a JPEG XL picture", ".jp2": "a JPEG 2000 picture", ".avif": "an AVIF picture",
    ".avi": "an AVI video", ".mkv": "a Matroska (MKV) video", ".wmv": "a Windows Media video",
    ".asf": "a Windows Media file", ".wma": "a Windows Media sound file", ".flv": "a Flash video",
    ".swf": "a Flash animation", ".mpg": "an MPEG-1/2 video", ".mpeg": "an MPEG-1/2 video",
    ".ts": "a broadcast video stream", ".aiff": "an AIFF sound file", ".aif": "an AIFF sound file",
    ".mid": "a MIDI file", ".midi": "a MIDI file",
}  # fmt: skip


def _named_refusal(match: _Match, expect: Family | None) -> UnsupportedFile | None:
    ext = match.extension
    if ext in {".pdf", ".fdf"}:
        return _not_media("a PDF document", expect, "pdf")
    if ext in _ARCHIVE_EXTENSIONS:
        return _not_media("a ZIP archive or office document (a bundle of files)", expect, "zip")
    if ext in _OTHER_ARCHIVES:
        return _not_media("a compressed archive (a bundle of files)", expect, "archive")
    if ext in _EXECUTABLE_EXTENSIONS or "executable" in match.name.lower() or "mach-o" in match.name.lower():
        return _not_media("a computer program", expect, "executable")
    if ext in {".html", ".htm", ".xhtml"}:
        return _not_media("a web page", expect, "html")
    if ext in {".m3u", ".m3u8", ".pls"}:
        return _not_media(_TEXT_KINDS["playlist"][0], expect, "playlist")
    if ext == ".svg":
        return UnsupportedFile(SVG_MESSAGE, "svg")
    if ext in _UNUSABLE_MEDIA:
        return _unusable_media(_UNUSABLE_MEDIA[ext], expect, "format")
    return None
