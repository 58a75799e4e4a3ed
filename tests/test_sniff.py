"""ingest.sniff against real files: images from Pillow, sound and video from ffmpeg.

Every file is written under a name that lies about it (``upload.jpg``, ``clip.mp4``...), so a
pass proves the decision came from the bytes.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

import media.images  # noqa: F401  (registers the HEIF plugin used to make HEIC samples)
from ingest.sniff import EMPTY_MESSAGE, SVG_MESSAGE, Sniffed, UnsupportedFile, sniff

SINE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.3"]
TESTSRC = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=0.3"]

# name -> (ffmpeg arguments before the output file, output format, expected result)
FFMPEG_SAMPLES = {
    "wav": (SINE, "wav", Sniffed("audio", "audio/wav", ".wav")),
    "flac": (SINE, "flac", Sniffed("audio", "audio/flac", ".flac")),
    "opus": (SINE + ["-c:a", "libopus"], "ogg", Sniffed("audio", "audio/ogg", ".opus")),
    "vorbis": (SINE + ["-c:a", "libvorbis"], "ogg", Sniffed("audio", "audio/ogg", ".ogg")),
    "mp3": (SINE + ["-c:a", "libmp3lame"], "mp3", Sniffed("audio", "audio/mpeg", ".mp3")),
    "mp3_bare": (
        SINE + ["-c:a", "libmp3lame", "-id3v2_version", "0", "-write_xing", "0"],
        "mp3",
        Sniffed("audio", "audio/mpeg", ".mp3"),
    ),
    "m4a": (SINE + ["-c:a", "aac"], "ipod", Sniffed("audio", "audio/mp4", ".m4a", needs_probe=True)),
    "aac": (SINE + ["-c:a", "aac"], "adts", Sniffed("audio", "audio/aac", ".aac")),
    "amr": (
        SINE + ["-ar", "8000", "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k"],
        "amr",
        Sniffed("audio", "audio/amr", ".amr"),
    ),
    "webm_audio": (
        SINE + ["-c:a", "libopus"],
        "webm",
        Sniffed("audio", "audio/webm", ".webm", needs_probe=True),
    ),
    "mp4": (
        TESTSRC + ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "mp4",
        Sniffed("video", "video/mp4", ".mp4", needs_probe=True),
    ),
    "mov": (
        TESTSRC + ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "mov",
        Sniffed("video", "video/quicktime", ".mov", needs_probe=True),
    ),
    "webm_video": (
        TESTSRC + SINE + ["-c:v", "libvpx-vp9", "-c:a", "libopus"],
        "webm",
        Sniffed("video", "video/webm", ".webm", needs_probe=True),
    ),
    "3gp": (
        ["-f", "lavfi", "-i", "testsrc=size=176x144:rate=10:duration=0.3", "-c:v", "h263"],
        "3gp",
        Sniffed("video", "video/3gpp", ".3gp", needs_probe=True),
    ),
    "3gp_voice": (
        SINE + ["-ar", "8000", "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k"],
        "3gp",
        Sniffed("video", "video/3gpp", ".3gp", needs_probe=True),
    ),
}
# Real containers Chorus refuses, all with reason "format".
FFMPEG_REFUSED = {
    "theora": (TESTSRC + ["-c:v", "libtheora"], "ogg"),
    "mkv": (TESTSRC + ["-c:v", "libx264", "-pix_fmt", "yuv420p"], "matroska"),
    "avi": (TESTSRC + ["-c:v", "mpeg4"], "avi"),
}


def ffmpeg(args: list[str], fmt: str, out: Path) -> Path:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run(command + args + ["-t", "0.3", "-f", fmt, str(out)], check=True, timeout=120)
    return out


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """Tiny real recordings, each under a misleading name."""
    folder = tmp_path_factory.mktemp("media")
    recipes = {name: (args, fmt) for name, (args, fmt, _) in FFMPEG_SAMPLES.items()}
    for name, (args, fmt) in {**recipes, **FFMPEG_REFUSED}.items():
        ffmpeg(args, fmt, folder / f"{name}.jpg")
    return folder


@pytest.mark.parametrize("name", sorted(FFMPEG_SAMPLES))
def test_recordings_are_identified_by_content(media_dir, name):
    assert sniff(media_dir / f"{name}.jpg") == FFMPEG_SAMPLES[name][2]


@pytest.mark.parametrize("name", sorted(FFMPEG_REFUSED))
def test_unsupported_containers_are_refused_by_name(media_dir, name):
    with pytest.raises(UnsupportedFile) as caught:
        sniff(media_dir / f"{name}.jpg")
    assert caught.value.reason == "format"
    assert "which Chorus can't use" in caught.value.message


def test_containers_that_may_hold_video_or_audio_need_a_probe(media_dir):
    for name, (_, _, expected) in FFMPEG_SAMPLES.items():
        may_be_either = expected.extension in {".m4a", ".mp4", ".mov", ".webm", ".3gp"}
        assert sniff(media_dir / f"{name}.jpg").needs_probe is may_be_either, name


# --- images ------------------------------------------------------------------------------------


def image_bytes(fmt: str, **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, fmt, **save)
    return out.getvalue()


IMAGE_SAMPLES = {
    "JPEG": Sniffed("image", "image/jpeg", ".jpg"),
    "PNG": Sniffed("image", "image/png", ".png"),
    "GIF": Sniffed("image", "image/gif", ".gif"),
    "WEBP": Sniffed("image", "image/webp", ".webp"),
    "HEIF": Sniffed("image", "image/heic", ".heic"),
}


@pytest.mark.parametrize("fmt", sorted(IMAGE_SAMPLES))
def test_images_are_identified_by_content(tmp_path, fmt):
    path = tmp_path / "voice-note.mp3"
    path.write_bytes(image_bytes(fmt))
    assert sniff(path) == IMAGE_SAMPLES[fmt]


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 64


def test_heif_brands(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(ftyp(b"mif1", b"mif1", b"heic"))
    assert sniff(path).media_type == "image/heic"
    path.write_bytes(ftyp(b"mif1", b"mif1", b"miaf"))
    assert sniff(path) == Sniffed("image", "image/heif", ".heif")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (ftyp(b"avif", b"avif", b"mif1"), "AVIF"),
        (ftyp(b"mif1", b"avif", b"miaf"), "AVIF"),
        (ftyp(b"crx ", b"crx "), "Canon RAW"),
        (image_bytes("TIFF"), "TIFF"),
        (image_bytes("BMP"), "BMP"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "PostScript"),
        (b"SIMPLE  =                    T / FITS" + b" " * 60, "FITS"),
        (b"8BPS\x00\x01" + b"\x00" * 40, "Photoshop"),
    ],
)
def test_other_picture_formats_are_named_and_refused(tmp_path, data, named):
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path, expect="image")
    assert named in caught.value.message
    assert "Please choose a photo (JPEG, PNG, HEIC, WebP or GIF)." in caught.value.message


def test_amr_wideband(tmp_path):
    path = tmp_path / "memo.m4a"
    path.write_bytes(b"#!AMR-WB\n" + b"\x04" * 64)
    assert sniff(path) == Sniffed("audio", "audio/amr-wb", ".awb")


# --- refusals -----------------------------------------------------------------------------------


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.class", b"\xca\xfe\xba\xbe")
    return out.getvalue()


BAD_INPUTS = {
    "html": b"\n  <!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "html_fragment": b"<script>document.location='//evil'</script>",
    "zip": zip_bytes(),
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00",
    "elf": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56,
    "php": b"<?php system($_GET['c']); ?>",
    "m3u8": b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nhttp://example.invalid/a.ts\n#EXT-X-ENDLIST\n",
    "concat": b"ffconcat version 1.0\nfile 'http://example.invalid/a.mp4'\n",
    "concat_bare": b"file '/etc/passwd'\n",
    "text": b"just some notes about the trip\n",
}
EXPECTED_REASON = {
    "html": "html", "html_fragment": "html", "zip": "zip", "pdf": "pdf", "exe": "executable",
    "elf": "executable", "php": "executable", "m3u8": "playlist", "concat": "playlist",
    "concat_bare": "playlist", "text": "document",
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_inputs_named_as_photos_are_refused(tmp_path, kind):
    path = tmp_path / "drawing.jpg"
    path.write_bytes(BAD_INPUTS[kind])
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path, expect="image")
    assert caught.value.reason == EXPECTED_REASON[kind]
    assert caught.value.message.endswith("Please choose a photo (JPEG, PNG, HEIC, WebP or GIF).")


def test_web_page_message_is_plain(tmp_path):
    path = tmp_path / "drawing.jpg.php"
    path.write_bytes(BAD_INPUTS["html"])
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path, expect="image")
    assert caught.value.message.startswith("This file is a web page, not a photo or drawing.")


@pytest.mark.parametrize("kind", ["m3u8", "concat"])
def test_playlist_named_mp4_is_refused(tmp_path, kind):
    path = tmp_path / "diary.mp4"
    path.write_bytes(BAD_INPUTS[kind])
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path, expect="video")
    assert caught.value.reason == "playlist"
    assert "This file is a playlist" in caught.value.message
    assert "not a video" in caught.value.message


@pytest.mark.parametrize("kind", ["zip", "pdf", "exe"])
def test_refusals_name_the_real_type(tmp_path, kind):
    path = tmp_path / "photo.png"
    path.write_bytes(BAD_INPUTS[kind])
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path)
    named = {"zip": "ZIP archive", "pdf": "PDF document", "exe": "computer program"}[kind]
    assert named in caught.value.message


def test_svg_gets_its_own_advice(tmp_path):
    path = tmp_path / "drawing.png"
    path.write_bytes(
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script><circle r='4'/></svg>\n"
    )
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path)
    assert caught.value.reason == "svg"
    assert caught.value.message == SVG_MESSAGE
    assert caught.value.message.startswith("Drawings saved as SVG can't be used")


def test_empty_file(tmp_path):
    path = tmp_path / "photo.jpg"
    path.touch()
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path)
    assert caught.value.reason == "empty"
    assert caught.value.message == EMPTY_MESSAGE
    assert caught.value.message.startswith("This file is empty.")


def test_unknown_bytes(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path, expect="audio")
    assert caught.value.reason == "unknown"
    assert "can't tell what kind of file" in caught.value.message
    assert "Please choose a sound recording (M4A, MP3, WAV" in caught.value.message


@pytest.mark.parametrize("fmt", ["GIF", "JPEG", "PNG"])
def test_picture_with_a_zip_appended_is_refused(tmp_path, fmt):
    path = tmp_path / "innocent.gif"
    path.write_bytes(image_bytes(fmt) + zip_bytes())
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path)
    assert caught.value.reason == "polyglot"


def test_chance_zip_signature_without_a_valid_directory_is_not_a_polyglot(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(image_bytes("JPEG") + b"PK\x05\x06" + b"\x00" * 40)
    assert sniff(path).media_type == "image/jpeg"


def test_wav_with_a_riff_sibling_is_not_mistaken(tmp_path):
    # AVI and WAV share "RIFF"; an AVI header must not pass as sound.
    path = tmp_path / "a.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 64)
    with pytest.raises(UnsupportedFile) as caught:
        sniff(path)
    assert "AVI" in caught.value.message
