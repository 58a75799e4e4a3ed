"""media.images against real files made here with Pillow and pillow-heif.

Location canaries are planted in every place a phone or editor puts metadata; the oracle is a
byte search of the master and every derivative, as docs/media-safety.md describes.
"""

from __future__ import annotations

import functools

import io
import json
import random
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from media import images
from media.images import (
    BadImage,
    ImageTooLarge,
    make_derivatives,
    open_image,
    strip_metadata,
)

ROOT = Path(__file__).resolve().parents[1]
# The planted APP2 "MPF" segment is deliberately not a valid multi-picture index.
pytestmark = pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")

# Seconds = 12.3457" as a rational, the way EXIF stores it: its bytes are the GPS canary.
GPS_SECONDS = (123457, 10000)
TEXT_CANARIES = [
    b"CANARY-GPS-AREA",
    b"CANARY-MAKERNOTE",
    b"CANARY-ARTIST",
    b"CANARY-XMP-LOCATION",
    b"51,30.2058N",
    b"CANARY-COMMENT",
    b"CANARY-IPTC-CITY",
    b"CANARY-APP4-VENDOR",
    b"CANARY-MPF",
    b"CANARY-TRAILER",
]
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.2058N">'
    b"<exif:UserComment>CANARY-XMP-LOCATION</exif:UserComment></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def canaries() -> list[bytes]:
    num, den = GPS_SECONDS
    return TEXT_CANARIES + [struct.pack(">II", num, den), struct.pack("<II", num, den)]


def leaked(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return [c for c in canaries() if c in data]


# --- building real test images ---------------------------------------------------------------


def picture(size: tuple[int, int] = (480, 320)) -> Image.Image:
    """A photo-like RGB image with a red block in the stored top-left corner."""
    width, height = size
    red = Image.linear_gradient("L").resize(size)
    green = Image.linear_gradient("L").rotate(90).resize(size)
    blue = Image.radial_gradient("L").resize(size)
    img = Image.merge("RGB", (red, green, blue))
    img.paste((255, 0, 0), (0, 0, width // 5, height // 5))
    return img


def location_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = "CANARY-ARTIST"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (IFDRational(51, 1), IFDRational(30, 1), IFDRational(*GPS_SECONDS))
    gps[27] = b"ASCII\x00\x00\x00CANARY-GPS-AREA"
    exif.get_ifd(0x8769)[0x927C] = b"CANARY-MAKERNOTE"
    return exif


# IPTC record 2, dataset 90 (City), 16 bytes long.
IPTC_CITY = b"\x1c\x02\x5a\x00\x10CANARY-IPTC-CITY"


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


@functools.cache
def srgb_icc() -> bytes:
    # Cached: the profile's header carries its creation time, so two calls a second apart differ.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def phone_jpeg(path: Path, size: tuple[int, int] = (480, 320), orientation: int = 6, **save) -> Path:
    """A JPEG carrying every kind of metadata a phone or editor writes, plus a trailer."""
    out = io.BytesIO()
    picture(size).save(
        out, "JPEG", quality=90, exif=location_exif(orientation), xmp=XMP,
        comment=b"CANARY-COMMENT", icc_profile=srgb_icc(), **save,
    )  # fmt: skip
    data = out.getvalue()
    extra = (
        segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x12" + IPTC_CITY)
        + segment(0xE4, b"CANARY-APP4-VENDOR maker data")
        + segment(0xE2, b"MPF\x00CANARY-MPF")
    )
    path.write_bytes(data[:2] + extra + data[2:] + b"CANARY-TRAILER motion photo video")
    return path


def write_png(path: Path, size: tuple[int, int], bit_depth: int, colour_type: int) -> Path:
    """A valid PNG of zero pixels, streamed so a huge canvas costs little to make."""
    width, height = size
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    row = b"\x00" * (1 + (width * channels * bit_depth + 7) // 8)
    packer = zlib.compressobj(6)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    plte = chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") if colour_type == 3 else b""
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + plte + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def pixels(path: Path) -> bytes:
    with Image.open(path) as img:
        return img.tobytes()


def upright(path: Path) -> Image.Image:
    with Image.open(path) as img:
        return ImageOps.exif_transpose(img)


# --- JPEG: metadata out, pixels untouched ----------------------------------------------------


@pytest.fixture
def stripped_jpeg(tmp_path):
    src = phone_jpeg(tmp_path / "upload.jpg")
    master = tmp_path / "master.jpg"
    result = strip_metadata(src, master, expected_media_type="image/jpeg")
    derived = make_derivatives(master, tmp_path / "derived")
    return src, master, result, derived


def test_canaries_are_planted(tmp_path):
    found = leaked(phone_jpeg(tmp_path / "upload.jpg"))
    assert set(TEXT_CANARIES) <= set(found)
    assert len(found) == len(TEXT_CANARIES) + 1  # the GPS rational, in the file's byte order


def test_jpeg_master_and_derivatives_have_no_location_or_vendor_data(stripped_jpeg):
    _, master, _, derived = stripped_jpeg
    for path in [master, derived["web"].path, derived["thumb"].path]:
        assert leaked(path) == [], path.name


def test_jpeg_master_keeps_only_orientation_and_icc(stripped_jpeg):
    _, master, _, _ = stripped_jpeg
    with Image.open(master) as img:
        assert dict(img.getexif()) == {0x0112: 6}
        assert img.getexif().get_ifd(0x8825) == {}
        assert img.info["icc_profile"] == srgb_icc()
        assert not {"xmp", "comment", "photoshop", "mp"} & set(img.info)


def test_jpeg_pixels_are_untouched(stripped_jpeg):
    src, master, result, _ = stripped_jpeg
    assert result.reencoded is False
    assert pixels(master) == pixels(src)


def test_jpeg_orientation_is_kept_for_display(stripped_jpeg):
    _, master, result, derived = stripped_jpeg
    assert (result.width, result.height) == (320, 480)
    assert upright(master).size == (320, 480)
    web = Image.open(derived["web"].path)
    assert web.size == (320, 480)
    # Orientation 6 turns the stored top-left corner to the displayed top-right.
    red, green, blue = web.getpixel((web.width - 5, 5))
    assert red > 200 and green < 60 and blue < 60


def test_derivatives_carry_no_metadata_at_all(stripped_jpeg):
    _, _, _, derived = stripped_jpeg
    for info in derived.values():
        with Image.open(info.path) as img:
            assert img.format == "JPEG"
            assert dict(img.getexif()) == {}
            assert "icc_profile" not in img.info
            assert (img.width, img.height) == (info.width, info.height)
            assert info.media_type == "image/jpeg"


def test_cmyk_jpeg_keeps_its_adobe_segment_and_pixels(tmp_path):
    src = tmp_path / "print.jpg"
    picture().convert("CMYK").save(src, "JPEG", quality=90, comment=b"CANARY-COMMENT")
    master = tmp_path / "master.jpg"
    strip_metadata(src, master)
    assert b"Adobe" in master.read_bytes()
    assert pixels(master) == pixels(src)
    assert leaked(master) == []


def test_progressive_jpeg_with_restart_markers_is_copied_exactly(tmp_path):
    src = phone_jpeg(tmp_path / "p.jpg", orientation=3, progressive=True, restart_marker_blocks=4)
    master = tmp_path / "master.jpg"
    result = strip_metadata(src, master)
    assert pixels(master) == pixels(src)
    assert (result.width, result.height) == (480, 320)
    assert leaked(master) == []


def test_orientation_1_needs_no_exif_at_all(tmp_path):
    src = phone_jpeg(tmp_path / "p.jpg", orientation=1)
    master = tmp_path / "master.jpg"
    strip_metadata(src, master)
    assert b"Exif\x00\x00" not in master.read_bytes()
    assert pixels(master) == pixels(src)


def test_multi_picture_jpeg_keeps_the_first_picture_only(tmp_path):
    src = tmp_path / "gainmap.jpg"
    first = picture()
    first.save(src, "MPO", save_all=True, append_images=[picture().rotate(180)])
    assert Image.open(src).format == "MPO"
    master = tmp_path / "master.jpg"
    result = strip_metadata(src, master, expected_media_type="image/jpeg")
    with Image.open(master) as img:
        assert img.format == "JPEG"
        assert "mp" not in img.info
    with Image.open(src) as original:
        assert pixels(master) == original.tobytes()
    assert result.media_type == "image/jpeg"


def test_junk_between_segments_is_skipped_like_libjpeg(tmp_path):
    clean = io.BytesIO()
    picture().save(clean, "JPEG")
    data = clean.getvalue()
    after_app0 = 4 + int.from_bytes(data[4:6], "big")
    src = tmp_path / "junk.jpg"
    src.write_bytes(data[:after_app0] + b"\x00\x13\x37" + data[after_app0:])
    master = tmp_path / "master.jpg"
    strip_metadata(src, master)
    assert pixels(master) == pixels(src)


# --- damaged, wrong or oversized input -------------------------------------------------------


@pytest.mark.parametrize("with_derivatives", [False, True])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_jpeg_is_refused_and_nothing_is_written(tmp_path, keep, with_derivatives):
    whole = phone_jpeg(tmp_path / "whole.jpg").read_bytes()
    src = tmp_path / "cut.jpg"
    src.write_bytes(whole[: int(len(whole) * keep)])
    master = tmp_path / "out" / "master.jpg"
    with pytest.raises(BadImage) as caught:
        strip_metadata(src, master, derivatives_dir=master.parent if with_derivatives else None)
    assert "damaged or incomplete" in caught.value.message
    assert not master.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_jpeg_missing_only_its_end_marker_is_refused(tmp_path):
    whole = io.BytesIO()
    picture().save(whole, "JPEG")
    src = tmp_path / "cut.jpg"
    src.write_bytes(whole.getvalue()[:-2])
    with pytest.raises(BadImage):
        strip_metadata(src, tmp_path / "master.jpg")


def test_truncated_png_is_refused(tmp_path):
    whole = io.BytesIO()
    picture().save(whole, "PNG")
    src = tmp_path / "cut.png"
    src.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    with pytest.raises(BadImage):
        strip_metadata(src, tmp_path / "master.png")


def test_not_an_allowed_image_is_refused(tmp_path):
    for name, data in {
        "page.jpg": b"<html><body>hello</body></html>",
        "scan.jpg": (lambda b: (picture().save(b, "TIFF"), b.getvalue())[1])(io.BytesIO()),
        "art.jpg": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(BadImage) as caught:
            open_image(path)
        assert "can't read this picture" in caught.value.message


def test_decoder_must_agree_with_the_sniffed_type(tmp_path):
    src = tmp_path / "photo.jpg"
    picture().save(src, "PNG")
    with pytest.raises(BadImage) as caught:
        strip_metadata(src, tmp_path / "master.jpg", expected_media_type="image/jpeg")
    assert "don't match" in caught.value.message


def test_png_decompression_bomb_is_refused_from_the_header(tmp_path):
    bomb = write_png(tmp_path / "bomb.png", (20_000, 20_000), bit_depth=1, colour_type=0)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ImageTooLarge):
        open_image(bomb)
    with pytest.raises(ImageTooLarge) as caught:
        strip_metadata(bomb, tmp_path / "master.png")
    assert "too big" in caught.value.message
    assert not (tmp_path / "master.png").exists()


def test_palette_bomb_is_refused(tmp_path):
    bomb = write_png(tmp_path / "bomb.png", (20_000, 20_000), bit_depth=1, colour_type=3)
    with pytest.raises(ImageTooLarge):
        make_derivatives(bomb, tmp_path / "derived")


def test_cap_is_lower_than_pillows_default(tmp_path):
    # 72 MP: under Pillow's own 89 MP warning threshold, over ours.
    big = write_png(tmp_path / "big.png", (9_000, 8_000), bit_depth=1, colour_type=0)
    assert 9_000 * 8_000 < 89_478_485
    with pytest.raises(ImageTooLarge) as caught:
        open_image(big)
    assert "64 megapixels" in caught.value.message


def test_bomb_refusal_keeps_memory_bounded(tmp_path):
    """A 400 MB-when-decoded greyscale bomb, handled in a fresh process; its peak RSS is read."""
    bomb = write_png(tmp_path / "bomb.png", (20_000, 20_000), bit_depth=8, colour_type=0)
    script = textwrap.dedent(
        f"""
        import json
        from media.images import ImageTooLarge, strip_metadata, make_derivatives
        outcome = []
        for call in (lambda: strip_metadata({str(bomb)!r}, {str(tmp_path / "m.png")!r}),
                     lambda: make_derivatives({str(bomb)!r}, {str(tmp_path / "d")!r})):
            try:
                call()
                outcome.append("accepted")
            except ImageTooLarge:
                outcome.append("refused")
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec, and
        # the pytest worker may already hold a Whisper model.
        peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
        print(json.dumps([outcome, peak]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    outcome, peak_kib = json.loads(run.stdout)
    assert outcome == ["refused", "refused"]
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib // 1024} MiB"


def test_load_truncated_images_must_stay_off(tmp_path, monkeypatch):
    src = tmp_path / "p.png"
    picture().save(src)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        strip_metadata(src, tmp_path / "master.png")


# --- other formats: re-encoded, oriented, clean ----------------------------------------------


def test_animated_gif_with_thousands_of_frames_keeps_frame_zero(tmp_path):
    palette = [0, 0, 0, 255, 255, 255, 255, 0, 0] + [0] * 759
    frames = []
    for i in range(3000):
        frame = Image.new("P", (24, 24), 0)
        frame.putpalette(palette)
        frame.putpixel((i % 24, (i // 24) % 24), 1 + i % 2)
        frames.append(frame)
    src = tmp_path / "anim.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=20, comment=b"CANARY-COMMENT")
    assert Image.open(src).n_frames == 3000

    master = tmp_path / "master.png"
    result = strip_metadata(src, master, expected_media_type="image/gif")
    assert result.first_frame_only is True
    assert (result.media_type, result.width, result.height) == ("image/png", 24, 24)
    with Image.open(master) as img, Image.open(src) as original:
        assert getattr(img, "n_frames", 1) == 1
        assert img.convert("RGBA").tobytes() == original.convert("RGBA").tobytes()
    assert leaked(master) == []
    derived = make_derivatives(master, tmp_path / "derived")
    assert derived["thumb"].width == 24


def png_with_metadata(path: Path, orientation: int = 6) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "CANARY-COMMENT")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Location", "CANARY-GPS-AREA", zip=True)
    picture().save(path, "PNG", pnginfo=info, exif=location_exif(orientation), icc_profile=srgb_icc())
    return path


def test_png_master_is_lossless_upright_and_clean(tmp_path):
    src = png_with_metadata(tmp_path / "drawing.png")
    assert leaked(src)
    master = tmp_path / "master.png"
    result = strip_metadata(src, master, expected_media_type="image/png")
    assert (result.media_type, result.width, result.height) == ("image/png", 320, 480)
    assert leaked(master) == []
    with Image.open(master) as img:
        assert dict(img.getexif()) == {}
        assert img.info.get("icc_profile") == srgb_icc()
        assert not {"Comment", "XML:com.adobe.xmp", "Location"} & set(img.info)
        assert img.tobytes() == upright(src).tobytes()


def test_transparent_drawing_is_flattened_onto_white(tmp_path):
    src = tmp_path / "drawing.png"
    drawing = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    drawing.paste((0, 0, 255, 255), (50, 25, 150, 75))
    drawing.save(src)
    master = tmp_path / "master.png"
    strip_metadata(src, master)
    with Image.open(master) as img:
        assert img.mode == "RGBA"
    derived = make_derivatives(master, tmp_path / "derived")
    web = Image.open(derived["web"].path)
    assert web.getpixel((2, 2)) == (255, 255, 255)
    assert web.getpixel((100, 50))[2] > 200


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    src = tmp_path / "scan.png"
    Image.new("I;16", (64, 64), 32_768).save(src)
    master = tmp_path / "master.png"
    strip_metadata(src, master)
    derived = make_derivatives(master, tmp_path / "derived")
    grey = Image.open(derived["web"].path).getpixel((32, 32))
    assert all(120 <= channel <= 136 for channel in grey)


def test_webp_master_is_lossless_and_clean(tmp_path):
    src = tmp_path / "photo.webp"
    picture().save(src, "WEBP", quality=80, exif=location_exif(8), xmp=XMP.decode())
    assert leaked(src)
    master = tmp_path / "master.webp"
    result = strip_metadata(src, master, expected_media_type="image/webp")
    assert (result.media_type, result.width, result.height) == ("image/webp", 320, 480)
    assert leaked(master) == []
    with Image.open(master) as img:
        assert "exif" not in img.info and "xmp" not in img.info
        assert img.convert("RGB").tobytes() == upright(src).convert("RGB").tobytes()


def heic_with_metadata(path: Path, **save) -> Path:
    picture().save(path, "HEIF", quality=90, exif=location_exif(6).tobytes(), xmp=XMP, **save)
    return path


def test_heic_round_trip_becomes_a_clean_upright_jpeg(tmp_path):
    src = heic_with_metadata(tmp_path / "IMG_0001.heic")
    assert leaked(src)
    master = tmp_path / "master.jpg"
    result = strip_metadata(src, master, expected_media_type="image/heic")
    assert (result.media_type, result.width, result.height) == ("image/jpeg", 320, 480)
    assert leaked(master) == []
    with Image.open(master) as img:
        assert img.format == "JPEG"
        assert dict(img.getexif()) == {}
        assert img.size == (320, 480)
        red, green, blue = img.getpixel((img.width - 5, 5))
    assert red > 200 and green < 80 and blue < 80
    derived = make_derivatives(master, tmp_path / "derived")
    assert all(leaked(info.path) == [] for info in derived.values())
    assert derived["web"].height == 480


def test_heif_brand_is_accepted_as_the_sniffed_heif_type(tmp_path):
    src = heic_with_metadata(tmp_path / "x.heif")
    result = strip_metadata(src, tmp_path / "m.jpg", expected_media_type="image/heif")
    assert result.media_type == "image/jpeg"


# --- derivatives ------------------------------------------------------------------------------


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path, monkeypatch):
    src = tmp_path / "big.jpg"
    picture((4000, 3000)).save(src, "JPEG", quality=85)
    scales = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spying_draft(self, mode, size):
        before = self.size
        outcome = real_draft(self, mode, size)
        scales.append(before[0] // self.size[0])
        return outcome

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spying_draft)
    derived = make_derivatives(src, tmp_path / "derived")
    assert scales == [2]
    assert (derived["web"].width, derived["web"].height) == (1600, 1200)
    assert (derived["thumb"].width, derived["thumb"].height) == (320, 240)
    with Image.open(derived["web"].path) as web:
        assert web.size == (1600, 1200)
        assert web.info.get("progressive") == 1


def test_small_pictures_are_not_enlarged(tmp_path):
    src = tmp_path / "small.png"
    picture((200, 100)).save(src)
    derived = make_derivatives(src, tmp_path / "derived")
    assert (derived["web"].width, derived["web"].height) == (200, 100)
    assert (derived["thumb"].width, derived["thumb"].height) == (200, 100)


def test_derivatives_replace_earlier_ones_without_leftovers(tmp_path):
    src = tmp_path / "p.png"
    picture().save(src)
    out = tmp_path / "derived"
    make_derivatives(src, out)
    make_derivatives(src, out)
    assert sorted(p.name for p in out.iterdir()) == ["thumb.jpg", "web.jpg"]


def _spy_decodes(monkeypatch) -> list[tuple[int, int]]:
    loads = []
    real_load = ImageFile.ImageFile.load

    def spying_load(self):
        if getattr(self, "tile", None):  # a decode still to do, not a no-op on loaded pixels
            loads.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spying_load)
    return loads


@pytest.mark.parametrize("orientation", [1, 6])
def test_derivatives_made_while_stripping_come_from_the_one_checking_decode(tmp_path, monkeypatch, orientation):
    src = phone_jpeg(tmp_path / "big.jpg", size=(4000, 3000), orientation=orientation)
    loads = _spy_decodes(monkeypatch)
    result = strip_metadata(src, tmp_path / "master.jpg", expected_media_type="image/jpeg",
                            derivatives_dir=tmp_path / "with")
    assert loads == [(2000, 1500)]  # one decode, at the web image's scale, which also proves the file whole
    monkeypatch.undo()
    from_master = make_derivatives(tmp_path / "master.jpg", tmp_path / "after")
    upright_size = (3000, 4000) if orientation == 6 else (4000, 3000)
    assert (result.width, result.height) == upright_size
    for name in ("web", "thumb"):
        made, again = result.derivatives[name], from_master[name]
        assert (made.width, made.height) == (again.width, again.height)
        assert leaked(made.path) == []
        with Image.open(made.path) as one, Image.open(again.path) as other:
            assert ImageChops.difference(one, other).convert("L").getextrema()[1] < 8


@pytest.mark.parametrize("kind", ["png", "webp"])
def test_upright_pictures_are_cleaned_and_derived_too(tmp_path, kind):
    src = tmp_path / f"drawing.{kind}"
    if kind == "png":
        png_with_metadata(src, orientation=1)
    else:
        picture().save(src, "WEBP", quality=80, exif=location_exif(1), xmp=XMP.decode())
    master = tmp_path / f"master.{kind}"
    result = strip_metadata(src, master, derivatives_dir=tmp_path)
    assert (result.width, result.height) == (480, 320)
    for path in [master, result.derivatives["web"].path, result.derivatives["thumb"].path]:
        assert leaked(path) == [], path.name
        with Image.open(path) as img:
            assert dict(img.getexif()) == {} and not {"xmp", "XML:com.adobe.xmp", "Comment"} & set(img.info)
    with Image.open(master) as img:
        assert img.convert("RGB").tobytes() == upright(src).convert("RGB").tobytes()


def test_pillow_cap_is_lowered_for_the_whole_process():
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS


@pytest.mark.filterwarnings("ignore:.*(EXIF|Tag data):UserWarning")
def test_mutated_jpegs_are_refused_or_copied_exactly(tmp_path):
    """Seeded byte mutations: the segment parser must agree with libjpeg or refuse."""
    rng = random.Random(20_260_401)
    seeds = [
        phone_jpeg(tmp_path / "progressive.jpg", progressive=True).read_bytes(),
        phone_jpeg(tmp_path / "restarts.jpg", restart_marker_blocks=2).read_bytes(),
    ]
    src, master = tmp_path / "mutated.jpg", tmp_path / "master.jpg"
    outcomes = {"refused": 0, "copied": 0}
    for _ in range(150):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        src.write_bytes(data)
        try:
            strip_metadata(src, master)
        except BadImage:
            outcomes["refused"] += 1
            continue
        assert pixels(master) == pixels(src)
        outcomes["copied"] += 1
    assert outcomes["refused"] and outcomes["copied"]
