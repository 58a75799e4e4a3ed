"""Reading words on real pictures: hand-lettered words rendered here, the demo drawings and photos."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from media import ocr
from rapidocr.utils.download_file import DownloadFile
from tests.helpers import refuse_network

DEMO = Path(__file__).resolve().parents[1] / "archive" / "demo" / "media"
CRAYONS = [(40, 60, 170), (30, 30, 30), (190, 40, 40), (40, 120, 60), (120, 50, 140)]


def hand_lettered(lines, size=(1200, 900), *, letter_px=110, seed=1) -> Image.Image:
    """Words as a child might colour them in: each letter tilted, bobbing and in its own crayon."""
    rng = random.Random(seed)
    paper = Image.new("RGB", size, (250, 247, 240))
    font = ImageFont.load_default(size=letter_px)
    y = letter_px // 2
    for line in lines:
        x = letter_px // 2
        for ch in line:
            if ch == " ":
                x += int(letter_px * 0.8)
                continue
            glyph = _crayon_glyph(ch, font, letter_px, rng)
            paper.paste(Image.new("RGB", glyph.size, rng.choice(CRAYONS)), (x, y + rng.randint(-10, 10)), glyph)
            x += glyph.width + rng.randint(4, 16)
        y += int(letter_px * 1.8)
    return paper.filter(ImageFilter.GaussianBlur(0.8))


def _crayon_glyph(ch, font, letter_px, rng) -> Image.Image:
    tile = Image.new("L", (letter_px * 2, letter_px * 2), 0)
    ImageDraw.Draw(tile).text((letter_px // 2, letter_px // 3), ch, fill=255, font=font, stroke_width=3)
    tile = tile.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC)
    glyph = np.asarray(tile.crop(tile.getbbox()), dtype=np.float32)
    # Crayon leaves gaps where the paper shows through.
    grain = np.random.default_rng(rng.randrange(2**32)).uniform(0.45, 1.0, glyph.shape) ** 0.5
    return Image.fromarray((glyph * grain).astype(np.uint8))


def texts(lines) -> list[str]:
    return [line.text for line in lines]


def joined(lines) -> str:
    # The detector may keep widely spaced words on one line or split them: both are right.
    return " ".join(texts(lines))


def test_available():
    assert ocr.available()


def test_reads_hand_lettered_capitals(tmp_path):
    path = tmp_path / "poster.png"
    hand_lettered(["NO BUS", "MY HOUSE", "IS COLD"]).save(path)
    assert texts(ocr.read_text(path)) == ["NO BUS", "MY HOUSE", "IS COLD"]


@pytest.mark.parametrize("seed", [1, 3, 10])
def test_reads_hand_lettered_lower_case_on_a_wide_sheet(tmp_path, seed):
    # These sheets were misread ("ploo sl sno d") while RapidOCR's upside-down classifier ran.
    path = tmp_path / "sheet.png"
    hand_lettered(["my house is cold", "no bus to the park"], size=(1600, 700), letter_px=90, seed=seed).save(path)
    assert joined(ocr.read_text(path)).lower() == "my house is cold no bus to the park"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("drawing-no-bus.png", ["NO BUS", "WE WALK IN THE RAIN"]),
        ("drawing-cold-house.png", ["MY HOUSE IS COLD", "BRRR", "OFF"]),
        ("drawing-me-and-my-nan.png", ["ME AND MY NAN"]),
    ],
)
def test_reads_the_demo_drawings_and_drops_what_it_makes_of_the_pictures(name, expected):
    # Unfiltered, the recogniser also "reads" the clouds as 0000, the flowers as 8888 and the
    # rain and stick figures as JMAMRE.
    assert texts(ocr.read_text(DEMO / name)) == expected


def test_reads_a_notice_in_a_photo():
    found = texts(ocr.read_text(DEMO / "photo-kitchen-table.jpg"))
    assert "FINAL REMINDER" in found
    assert "Please pay within 7 days" in found


@pytest.mark.parametrize(
    ("name", "crop"),
    [
        ("drawing-no-bus.png", (0, 380, 1200, 780)),  # stick figures in the rain
        ("drawing-me-and-my-nan.png", (0, 180, 1200, 900)),  # figures, heart and flowers
        ("drawing-cold-house.png", (240, 180, 960, 830)),  # the house
    ],
)
def test_parts_of_drawings_without_words_give_nothing(tmp_path, name, crop):
    path = tmp_path / "part.png"
    with Image.open(DEMO / name) as img:
        img.crop(crop).save(path)
    assert ocr.read_text(path) == []


@pytest.mark.parametrize("name", ["photo-damp-wall.jpg", "photo-broken-swing.jpg"])
def test_photos_without_words_give_nothing(name):
    assert ocr.read_text(DEMO / name) == []


def test_a_large_photo_is_read_and_boxes_are_in_its_own_pixels(tmp_path):
    big = Image.new("RGB", (4800, 3600), (200, 205, 195))
    sign = hand_lettered(["NO BUS"], size=(900, 250))
    big.paste(sign.resize((1800, 500)), (2400, 2600))
    path = tmp_path / "big.jpg"
    big.save(path, quality=90)
    lines = ocr.read_text(path)
    assert joined(lines) == "NO BUS"
    left = min(line.box[0] for line in lines)
    top = min(line.box[1] for line in lines)
    right = max(line.box[0] + line.box[2] for line in lines)
    bottom = max(line.box[1] + line.box[3] for line in lines)
    # The sign spans 2400-4200 × 2600-3100 and its letters sit inside its margins.
    assert 2400 <= left < 2700 and 2550 <= top < 2800
    assert 3400 < right <= 4200 and 2800 < bottom <= 3100


def test_boxes_follow_the_exif_orientation(tmp_path):
    upright = hand_lettered(["NO BUS"], size=(900, 1200))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # shown upright by orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, quality=92, exif=exif)
    lines = ocr.read_text(path)
    assert joined(lines) == "NO BUS"
    # Upright, the words run across the top left of a portrait page.
    assert all(line.box[0] < 700 and line.box[1] < 250 and line.box[2] > line.box[3] for line in lines)


@pytest.mark.parametrize(
    ("text", "score", "kept"),
    [
        ("MY HOUSE IS COLD", 0.97, "MY HOUSE IS COLD"),
        ("Zoë’s café", 0.9, "Zoë’s café"),
        ("JMAMRE", 0.67, None),  # rain streaks
        ("0000", 0.94, None),  # clouds
        ("8888", 0.81, None),  # flowers
        ("III", 0.9, None),
        ("0", 0.9, None),
        ("鱼", 0.79, None),
        ("MY HOUSE 鱼", 0.9, "MY HOUSE"),
        ("7 X7 12", 0.99, "7 X7 12"),
        ("BRRR", 0.99, "BRRR"),
    ],
)
def test_line_filter(text, score, kept):
    assert ocr.keep_line(text, score) == kept


def test_no_network_is_needed(tmp_path, monkeypatch):
    refuse = refuse_network(monkeypatch, "OCR")
    monkeypatch.setattr(DownloadFile, "run", refuse)
    monkeypatch.setattr(ocr, "_engine", None)  # load afresh, inside the fence
    path = tmp_path / "poster.png"
    hand_lettered(["NO BUS"], size=(900, 300)).save(path)
    assert joined(ocr.read_text(path)) == "NO BUS"


def test_reading_order_joins_pieces_of_a_split_line_and_keeps_columns_apart():
    line = ocr.OcrLine
    found = ocr.in_reading_order(
        [
            line("12 52", 0.9, (300, 205, 60, 30)),  # second column of a timetable
            line("park", 0.9, (600, 8, 200, 100)),  # overlaps the end of the line before it
            line("06 52", 0.9, (100, 200, 60, 30)),
            line("no bus to the p", 0.9, (0, 0, 650, 100)),
        ]
    )
    assert [(l.text, l.box) for l in found] == [
        ("no bus to the park", (0, 0, 800, 108)),
        ("06 52", (100, 200, 60, 30)),
        ("12 52", (300, 205, 60, 30)),
    ]


def test_a_changed_model_file_is_refused(monkeypatch):
    changed = dict(ocr.MODEL_FILES)
    changed["Rec"] = ocr.PackagedFile("rapidocr", changed["Rec"].path, "0" * 64, changed["Rec"].size)
    monkeypatch.setattr(ocr, "MODEL_FILES", changed)
    monkeypatch.setattr(ocr, "_engine", None)
    with pytest.raises(ocr.OcrChecksumError, match="expected 0000"):
        ocr.read_text(DEMO / "drawing-no-bus.png")


def test_missing_package_is_reported_not_crashed(monkeypatch):
    missing = {"Det": ocr.PackagedFile("no-such-ocr-models", "x/det.onnx", "0" * 64, 1)}
    monkeypatch.setattr(ocr, "MODEL_FILES", missing)
    monkeypatch.setattr(ocr, "_engine", None)
    assert not ocr.available()
    with pytest.raises(ocr.OcrUnavailable, match="pip install"):
        ocr.read_text(DEMO / "drawing-no-bus.png")
