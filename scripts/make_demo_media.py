"""Regenerate the invented demo media in ``archive/demo/media``.

Everything here is made from nothing: Pillow draws the photos and drawings from seeded
noise and shapes, espeak-ng speaks invented sentences, sox shapes the voice, and the
ffmpeg binary shipped by imageio-ffmpeg encodes the audio and the video. No real person,
photograph or recording goes in, so the demo archive can be shown and shipped freely.

Run through ``scripts/make-demo-media.sh``. The same tool versions give byte-identical
files (all randomness is seeded and the encoders run in bit-exact mode); MEDIA.md
records the versions and the SHA-256 of each file, and the printed table is what goes
there after a deliberate regeneration.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.ExifTags import GPS, IFD, Base

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "archive" / "demo" / "media"

PHOTO_SIZE = (1600, 1200)
DRAWING_SIZE = (1200, 900)
VIDEO_SIZE = (854, 480)
VIDEO_FPS = 15

# The GPS "canary": a position in the Irish Sea, about 30 km off the Lancashire coast,
# so it identifies nobody's home while still looking like a plausible phone fix.
# The repeated digits make it easy to grep for in anything the pipeline outputs.
CANARY_LAT = ((53, 1), (45, 1), (4545, 100))  # 53 deg 45' 45.45" N
CANARY_LON = ((3, 1), (33, 1), (3333, 100))  # 3 deg 33' 33.33" W
CANARY_ALT = (1234, 100)  # 12.34 m
CANARY_TAKEN = "2026:09:28 21:42:10"  # the night before the family hub session

# Invented sentences, in the participants' own words (they match content.json).
VOICE_NOTES = {
    "voice-walk-to-school.ogg": dict(
        text="My mum can't afford the bus to school, so we walk for ages. "
        "When it's raining my shoes get soaked and I'm cold all morning.",
        # A higher-pitched female variant of the Lancaster voice reads as a young child.
        voice="en-gb-x-gbclan+f3",
        pitch=80,
        speed=150,
        semitones=1.5,
    ),
    "voice-nowhere-to-play.ogg": dict(
        text="There's nowhere to play near our flat. The park has broken glass "
        "and the swing's been broke for ages, so we just sit on the wall.",
        voice="en-gb-x-gbclan+m3",
        pitch=72,
        speed=155,
        semitones=2.0,
    ),
    "voice-rent-and-tea.ogg": dict(
        text="By the time the rent and the electric have gone, there's not much left "
        "for food. I just have toast so the kids can have a proper tea.",
        # An adult parent: ordinary pitch, no shift.
        voice="en-gb-x-gbclan+f2",
        pitch=48,
        speed=150,
        semitones=0.0,
    ),
}

VIDEO_NAME = "video-bus-went-past.mp4"
VIDEO_SPEECH = dict(
    text="Day three. The bus went straight past again, it was full. So I'm late for school. Again.",
    voice="en-gb-x-gbclan+m4",
    pitch=62,
    speed=160,
    semitones=1.0,
)


# ----------------------------------------------------------------------------- helpers


def fractal(rng: np.random.Generator, w: int, h: int, base: int = 4, octaves: int = 5,
            persistence: float = 0.55, aspect: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Smooth value noise in [0, 1]: upscaled random grids summed over octaves."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gw = max(2, int(base * 2**o * aspect[0]))
        gh = max(2, int(base * 2**o * aspect[1] * h / w))
        small = rng.random((gh, gw)).astype(np.float32)
        layer = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
        out += np.asarray(layer, np.float32) * amp
        total += amp
        amp *= persistence
    out /= total
    lo, hi = out.min(), out.max()
    return (out - lo) / (hi - lo + 1e-6)


def vgradient(w: int, h: int, top, bottom) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top = np.array(top, np.float32)[None, None, :]
    bottom = np.array(bottom, np.float32)[None, None, :]
    return np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).copy()


def to_image(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def photo_finish(img: Image.Image, rng: np.random.Generator, blur: float, grain: float,
                 vignette: float = 0.35, tint=(1.0, 1.0, 1.0)) -> Image.Image:
    """Make a flat render read as a phone photo: soft focus, vignette, sensor grain.

    Grain is generated at half resolution and upscaled, like the blotchy noise of a small
    phone sensor; it also keeps the JPEGs inside the size budget.
    """
    img = img.filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(img, np.float32)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / math.sqrt(2)
    a *= (1 - vignette * r**2)[:, :, None]
    a *= np.array(tint, np.float32)[None, None, :]
    lum = rng.normal(0, grain, (h // 2 + 1, w // 2 + 1)).astype(np.float32)
    lum = np.asarray(Image.fromarray(lum).resize((w + 2, h + 2), Image.Resampling.BILINEAR))[:h, :w]
    chroma = rng.normal(0, grain * 0.35, (h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
    chroma = np.stack(
        [np.asarray(Image.fromarray(np.ascontiguousarray(chroma[:, :, c])).resize((w + 4, h + 4), Image.Resampling.BILINEAR))[:h, :w]
         for c in range(3)], axis=2)
    a += lum[:, :, None] + chroma
    return to_image(a)


def font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's embedded font: the same glyphs on every machine, no system font path.
    return ImageFont.load_default(size=size)


def soft_shadow(base: Image.Image, box, offset=(14, 18), blur=18, strength=110):
    """Darken an ellipse under an object so it sits on the surface."""
    layer = Image.new("L", base.size, 0)
    x0, y0, x1, y1 = box
    ImageDraw.Draw(layer).ellipse((x0 + offset[0], y0 + offset[1], x1 + offset[0], y1 + offset[1]), fill=strength)
    layer = layer.filter(ImageFilter.GaussianBlur(blur))
    black = Image.new("RGB", base.size, (20, 15, 10))
    base.paste(black, (0, 0), layer)


# ----------------------------------------------------------------------------- photos


def photo_bus_stop(rng: np.random.Generator) -> Image.Image:
    w, h = PHOTO_SIZE
    horizon = 560
    a = vgradient(w, h, (138, 144, 156), (196, 199, 204))
    clouds = fractal(rng, w, h, base=3, octaves=5)
    a += ((clouds - 0.5) * 26)[:, :, None]
    img = to_image(a)
    d = ImageDraw.Draw(img)

    # A terrace of brick houses across the road, each a slightly different brick.
    brick_noise = fractal(rng, w, h, base=40, octaves=3)
    x = -60
    while x < w:
        hw = int(rng.integers(230, 280))
        top = 300 + int(rng.integers(-8, 8))
        col = np.array([132, 68, 52]) + rng.integers(-14, 14, 3)
        d.rectangle((x, top, x + hw, horizon + 40), fill=tuple(int(c) for c in col))
        d.polygon([(x - 6, top), (x + hw + 6, top), (x + hw - 20, top - 70), (x + 14, top - 70)], fill=(68, 70, 78))
        d.rectangle((x + hw - 60, top - 110, x + hw - 30, top - 60), fill=tuple(int(c) for c in col - 12))
        for wx in (x + 30, x + hw - 110):
            for wy in (top + 40, top + 170):
                d.rectangle((wx - 6, wy - 6, wx + 86, wy + 96), fill=(236, 236, 232))
                glass = 70 + int(rng.integers(0, 40))
                d.rectangle((wx, wy, wx + 80, wy + 90), fill=(glass, glass + 6, glass + 14))
                d.line((wx + 40, wy, wx + 40, wy + 90), fill=(230, 230, 226), width=4)
        d.rectangle((x + hw // 2 - 28, top + 150, x + hw // 2 + 28, horizon + 40), fill=tuple(int(c) for c in rng.integers(30, 120, 3)))
        x += hw
    a = np.asarray(img, np.float32).copy()
    band = slice(230, horizon + 40)
    a[band] += ((brick_noise[band] - 0.5) * 30)[:, :, None]
    # Mortar lines every few pixels give the brick its scale.
    mortar = (np.arange(h) % 9 == 0)[band]
    a[band][mortar] += 14
    img = to_image(a)
    d = ImageDraw.Draw(img)

    # Far pavement, road and near pavement in rough perspective.
    d.rectangle((0, horizon + 40, w, horizon + 110), fill=(150, 150, 146))
    d.rectangle((0, horizon + 110, w, horizon + 122), fill=(120, 120, 118))
    d.polygon([(0, horizon + 122), (w, horizon + 122), (w, 930), (0, 930)], fill=(66, 68, 72))
    for i in range(6):
        x0 = 80 + i * 290
        d.polygon([(x0, 742), (x0 + 160, 742), (x0 + 150, 756), (x0 - 10, 756)], fill=(200, 198, 184))
    d.polygon([(0, 930), (w, 930), (w, h), (0, h)], fill=(158, 157, 152))
    d.rectangle((0, 922, w, 942), fill=(186, 186, 180))
    for i in range(-2, 9):
        d.line((i * 240, 942, i * 240 - 120, h), fill=(128, 128, 124), width=3)
    d.line((0, 1060, w, 1040), fill=(128, 128, 124), width=3)
    a = np.asarray(img, np.float32).copy()
    grit = fractal(rng, w, h, base=60, octaves=2)
    a[horizon + 122:] += ((grit[horizon + 122:] - 0.5) * 34)[:, :, None]
    img = to_image(a)
    d = ImageDraw.Draw(img)

    # Puddles reflect the grey sky.
    for cx, cy, rx, ry in ((420, 1010, 210, 40), (1320, 860, 160, 26), (230, 820, 120, 18)):
        layer = Image.new("L", (w, h), 0)
        ImageDraw.Draw(layer).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=150)
        img.paste((170, 176, 186), (0, 0), layer.filter(ImageFilter.GaussianBlur(6)))

    # The bus stop: pole, flag and timetable case.
    px = 1080
    d.rectangle((px, 140, px + 22, 1130), fill=(118, 120, 116))
    d.rectangle((px + 4, 140, px + 9, 1130), fill=(160, 162, 158))
    d.ellipse((px - 30, 1115, px + 52, 1145), fill=(90, 90, 88))
    flag = (px - 150, 110, px + 172, 330)
    d.rectangle(flag, fill=(246, 246, 242), outline=(40, 40, 40), width=4)
    d.ellipse((px - 130, 128, px - 20, 238), outline=(200, 30, 36), width=14)
    d.rounded_rectangle((px - 105, 165, px - 45, 205), radius=6, fill=(30, 30, 30))
    d.text((px - 8, 140), "BUS", font=font(44), fill=(20, 20, 20))
    d.text((px - 8, 190), "STOP", font=font(44), fill=(20, 20, 20))
    d.rectangle((px - 140, 262, px + 162, 318), fill=(18, 60, 120))
    d.text((px - 120, 270), "7   X7   12", font=font(38), fill=(255, 255, 255))

    case = (px - 150, 470, px + 172, 880)
    d.rectangle(case, fill=(176, 180, 182), outline=(90, 92, 94), width=6)
    d.rectangle((case[0] + 16, case[1] + 16, case[2] - 16, case[3] - 16), fill=(240, 240, 236))
    ty = case[1] + 26
    d.text((case[0] + 28, ty), "Service 7", font=font(30), fill=(18, 60, 120))
    d.text((case[0] + 28, ty + 36), "Kestrel Vale - Town Centre", font=font(19), fill=(20, 20, 20))
    d.text((case[0] + 28, ty + 62), "Monday to Saturday", font=font(19), fill=(20, 20, 20))
    times = ["06 52", "07 52", "08 52", "09 52", "10 52", "11 52", "12 52", "13 52", "14 52", "15 52", "16 52", "17 52"]
    for i, t in enumerate(times):
        col, row = divmod(i, 6)
        d.text((case[0] + 40 + col * 140, ty + 100 + row * 30), t, font=font(22), fill=(25, 25, 25))
    d.rectangle((case[0] + 26, case[3] - 92, case[2] - 26, case[3] - 28), fill=(250, 214, 40))
    d.text((case[0] + 36, case[3] - 86), "No evening journeys", font=font(20), fill=(20, 20, 20))
    d.text((case[0] + 36, case[3] - 60), "from Monday 1 June", font=font(20), fill=(20, 20, 20))
    # Someone has scratched the perspex; a sticker has been half peeled off.
    for _ in range(18):
        x0 = int(rng.integers(case[0] + 20, case[2] - 20))
        y0 = int(rng.integers(case[1] + 20, case[3] - 20))
        d.line((x0, y0, x0 + int(rng.integers(-60, 60)), y0 + int(rng.integers(-20, 20))), fill=(210, 212, 214), width=2)

    # A litter bin beside the pole.
    d.rounded_rectangle((1260, 900, 1380, 1090), radius=16, fill=(40, 70, 50))
    d.rectangle((1250, 890, 1390, 912), fill=(30, 55, 40))

    # Drizzle: faint streaks, slightly slanted.
    rain = Image.new("L", (w, h), 0)
    rd = ImageDraw.Draw(rain)
    for _ in range(900):
        x0 = int(rng.integers(0, w))
        y0 = int(rng.integers(0, h))
        rd.line((x0, y0, x0 - 6, y0 + 34), fill=int(rng.integers(30, 80)), width=1)
    img.paste((225, 228, 232), (0, 0), rain)
    return photo_finish(img, rng, blur=0.9, grain=5.0, tint=(0.98, 1.0, 1.03))


def photo_damp_wall(rng: np.random.Generator) -> Image.Image:
    w, h = PHOTO_SIZE
    corner_x, ceiling_y = 1240, 170
    # Magnolia paint lit from the window on the left.
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    light = 1.0 - 0.28 * x - 0.12 * y
    base = np.array([222, 210, 186], np.float32)
    a = base[None, None, :] * light[:, :, None]
    a += ((fractal(rng, w, h, base=6, octaves=4) - 0.5) * 10)[:, :, None]
    # The right-hand wall, in shadow, meets at the corner.
    a[:, corner_x:] *= 0.78
    a[:ceiling_y] = np.array([236, 234, 226], np.float32) * (0.95 - 0.2 * x[0])[None, :, None]
    img = to_image(a)
    d = ImageDraw.Draw(img)
    d.line((0, ceiling_y, corner_x, ceiling_y), fill=(200, 194, 178), width=8)
    d.line((corner_x, ceiling_y, w, ceiling_y - 60), fill=(180, 174, 160), width=8)
    d.line((corner_x, ceiling_y, corner_x, h), fill=(176, 168, 150), width=3)

    # Window on the left, condensation on the glass.
    d.rectangle((0, 230, 330, 900), fill=(246, 246, 244))
    d.rectangle((0, 262, 296, 860), fill=(150, 158, 170))
    d.rectangle((140, 262, 160, 860), fill=(246, 246, 244))
    d.rectangle((0, 880, 360, 920), fill=(238, 238, 234))
    drops = Image.new("L", (w, h), 0)
    dd = ImageDraw.Draw(drops)
    for _ in range(650):
        cx = int(rng.integers(0, 296))
        cy = int(rng.integers(500, 860))
        r = int(rng.integers(2, 7))
        dd.ellipse((cx - r, cy - r, cx + r, cy + r * 1.3), fill=int(rng.integers(60, 140)))
    img.paste((214, 220, 228), (0, 0), drops.filter(ImageFilter.GaussianBlur(1.2)))

    # Black mould: fractal noise thresholded, strongest in the cold corner, along the
    # ceiling and round the window frame, where condensation collects.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    near_corner = np.exp(-(((xx - corner_x) / 330) ** 2 + ((yy - ceiling_y) / 420) ** 2))
    near_ceiling = np.exp(-((yy - ceiling_y) / 120) ** 2) * np.clip((xx - 500) / 700, 0, 1)
    near_window = np.exp(-((xx - 330) / 90) ** 2) * ((yy > 230) & (yy < 940)) + np.exp(-((yy - 925) / 40) ** 2) * (xx < 380)
    spread = np.clip(near_corner * 1.2 + near_ceiling * 0.55 + near_window * 0.9, 0, 1.2)
    texture = fractal(rng, w, h, base=24, octaves=5, persistence=0.6)
    speck = rng.random((h, w)).astype(np.float32)
    mould = np.clip((texture * spread - 0.28) * 3.2, 0, 1)
    mould = np.maximum(mould, ((speck > 0.985) & (spread > 0.35)).astype(np.float32) * 0.8)
    mould[:ceiling_y - 4] *= 0.5
    mould_img = Image.fromarray((mould * 230).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.3))
    img.paste((34, 38, 30), (0, 0), mould_img)

    # Brown tide-mark of an old leak below the ceiling.
    stain = Image.new("L", (w, h), 0)
    sd = ImageDraw.Draw(stain)
    sd.ellipse((680, 90, 1080, 360), outline=90, width=10)
    sd.ellipse((700, 110, 1060, 340), fill=28)
    stain = stain.filter(ImageFilter.GaussianBlur(9))
    img.paste((140, 104, 60), (0, 0), stain)

    # Wallpaper peeling away from the damp corner.
    d = ImageDraw.Draw(img)
    soft_shadow(img, (1150, 330, 1236, 640), offset=(8, 6), blur=12, strength=70)
    d.polygon([(1236, 300), (1236, 640), (1196, 600), (1176, 520), (1182, 420), (1204, 340)], fill=(214, 204, 182))
    d.polygon([(1196, 600), (1176, 520), (1182, 420), (1204, 340), (1190, 420), (1186, 520)], fill=(244, 238, 222))
    d.line([(1236, 300), (1204, 340), (1182, 420), (1176, 520), (1196, 600), (1236, 640)], fill=(170, 160, 140), width=2)

    # Skirting board, and the corner of a cot: the baby sleeps against this wall.
    d.rectangle((0, 1110, corner_x, h), fill=(236, 234, 228))
    d.line((0, 1110, corner_x, 1110), fill=(190, 186, 176), width=4)
    soft_shadow(img, (820, 760, 1600, 1240), offset=(-20, 10), blur=30, strength=90)
    d.rectangle((880, 760, w, 800), fill=(248, 248, 246))
    d.rectangle((880, 1060, w, 1100), fill=(248, 248, 246))
    d.rectangle((900, 980, w, 1060), fill=(160, 196, 224))
    for i in range(14):
        bx = 900 + i * 52
        d.rectangle((bx, 800, bx + 16, 1060), fill=(250, 250, 248))
        d.line((bx + 3, 800, bx + 3, 1060), fill=(214, 214, 210), width=2)
    d.rectangle((870, 760, 900, h), fill=(244, 244, 242))
    return photo_finish(img, rng, blur=1.1, grain=7.5, vignette=0.45, tint=(1.04, 1.0, 0.92))


def photo_park_swing(rng: np.random.Generator) -> Image.Image:
    w, h = PHOTO_SIZE
    horizon = 540
    a = vgradient(w, h, (104, 146, 198), (196, 214, 228))
    clouds = fractal(rng, w, h, base=3, octaves=6)
    cloud_mask = np.clip((clouds - 0.52) * 3.0, 0, 1)[:, :, None] * np.linspace(1, 0.3, h)[:, None, None]
    a = a * (1 - cloud_mask) + 245 * cloud_mask
    # Grass, with a worn muddy patch under the swings.
    grass = fractal(rng, w, h, base=30, octaves=4)
    g = np.stack([70 + grass * 40, 112 + grass * 50, 46 + grass * 24], axis=2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mud = np.clip(1.2 - np.sqrt(((xx - 820) / 560) ** 2 + ((yy - 1010) / 170) ** 2), 0, 1)[:, :, None]
    g = g * (1 - mud) + np.array([96, 76, 56], np.float32) * mud * (0.8 + 0.4 * grass[:, :, None])
    a[horizon:] = g[horizon:]
    img = to_image(a)
    d = ImageDraw.Draw(img)

    # Block of flats beyond the trees.
    d.rectangle((1180, 250, 1520, horizon), fill=(150, 146, 140))
    for r in range(7):
        for c in range(5):
            d.rectangle((1200 + c * 64, 270 + r * 38, 1236 + c * 64, 296 + r * 38), fill=(80 + 10 * ((r + c) % 3), 88, 100))
    # Trees: clusters of overlapping dark-green blobs.
    for _ in range(26):
        cx = int(rng.integers(-40, w + 40))
        cy = int(rng.integers(horizon - 150, horizon - 10))
        d.rectangle((cx - 8, cy, cx + 8, horizon + 10), fill=(70, 56, 40))
        for _ in range(9):
            ox, oy = rng.integers(-70, 70), rng.integers(-90, 30)
            r = int(rng.integers(40, 80))
            shade = int(rng.integers(0, 30))
            d.ellipse((cx + ox - r, cy + oy - r, cx + ox + r, cy + oy + r), fill=(34 + shade, 70 + shade, 36 + shade // 2))
    # Railings along the back of the play area.
    d.line((0, horizon + 40, w, horizon + 40), fill=(30, 60, 40), width=6)
    d.line((0, horizon + 90, w, horizon + 90), fill=(30, 60, 40), width=6)
    for x in range(0, w, 26):
        d.line((x, horizon + 20, x, horizon + 110), fill=(30, 60, 40), width=5)

    # Swing frame, painted green once and now chipped.
    frame = (46, 86, 60)
    d.line((330, 1030, 400, 330), fill=frame, width=24)
    d.line((470, 1050, 400, 330), fill=frame, width=24)
    d.line((1330, 1030, 1260, 330), fill=frame, width=24)
    d.line((1190, 1050, 1260, 330), fill=frame, width=24)
    d.line((380, 330, 1280, 330), fill=frame, width=26)
    for _ in range(80):
        x0 = int(rng.integers(390, 1270))
        y0 = 320 + int(rng.integers(0, 12))
        d.ellipse((x0, y0, x0 + int(rng.integers(3, 9)), y0 + int(rng.integers(3, 8))), fill=(150, 140, 120))

    def chain(x0, y0, x1, y1):
        n = int(math.hypot(x1 - x0, y1 - y0) / 14)
        for i in range(n):
            t = i / max(1, n)
            cx, cy = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            if i % 2:
                d.ellipse((cx - 4, cy - 8, cx + 4, cy + 8), outline=(150, 150, 150), width=3)
            else:
                d.ellipse((cx - 2, cy - 8, cx + 2, cy + 8), outline=(110, 110, 110), width=3)

    # The swing that still works.
    chain(630, 344, 630, 830)
    chain(770, 344, 770, 830)
    d.rounded_rectangle((600, 826, 800, 856), radius=10, fill=(26, 26, 28))
    # The broken one: one chain snapped, the seat hanging straight down.
    chain(960, 344, 960, 760)
    d.rounded_rectangle((944, 760, 976, 950), radius=10, fill=(26, 26, 28))
    chain(1100, 344, 1100, 520)
    chain(1080, 1030, 1190, 1040)

    # Broken bottle glass glinting in the grass.
    for _ in range(40):
        cx = int(rng.integers(200, 1450))
        cy = int(rng.integers(960, 1180))
        pts = [(cx + int(rng.integers(-18, 18)), cy + int(rng.integers(-10, 10))) for _ in range(4)]
        col = [(60, 110, 60), (110, 70, 30), (170, 190, 180)][int(rng.integers(0, 3))]
        d.polygon(pts, fill=col)
        d.point((cx, cy), fill=(255, 255, 255))
        d.line((cx - 3, cy - 3, cx + 3, cy + 3), fill=(250, 250, 250), width=2)
    return photo_finish(img, rng, blur=0.8, grain=4.5, vignette=0.3)


def photo_kitchen_table(rng: np.random.Generator) -> Image.Image:
    w, h = PHOTO_SIZE
    # Wood: noise stretched along the planks, plank joints every few hundred pixels.
    grain = fractal(rng, w, h, base=3, octaves=5, aspect=(0.25, 8.0))
    a = np.stack([128 + grain * 60, 86 + grain * 44, 52 + grain * 26], axis=2)
    for y0 in range(0, h, 300):
        a[y0:y0 + 5] *= 0.55
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    a *= 1.1 - 0.25 * np.sqrt((x - 0.45) ** 2 + (y - 0.35) ** 2)
    img = to_image(a)
    d = ImageDraw.Draw(img)

    # The tea: pasta and beans on a plate.
    soft_shadow(img, (250, 330, 930, 830))
    d.ellipse((250, 330, 930, 830), fill=(242, 242, 238))
    d.ellipse((310, 380, 870, 780), fill=(250, 250, 248), outline=(220, 220, 216), width=4)
    sauce = Image.new("L", (w, h), 0)
    ImageDraw.Draw(sauce).ellipse((430, 480, 720, 660), fill=220)
    img.paste((190, 72, 30), (0, 0), sauce.filter(ImageFilter.GaussianBlur(10)))
    for _ in range(120):
        cx = int(rng.integers(460, 700))
        cy = int(rng.integers(500, 645))
        d.ellipse((cx - 9, cy - 6, cx + 9, cy + 6), fill=(214, 104, 40), outline=(160, 66, 24))
    for _ in range(70):
        cx = int(rng.integers(360, 820))
        cy = int(rng.integers(430, 730))
        if (cx - 575) ** 2 / 150**2 + (cy - 570) ** 2 / 100**2 < 1:
            continue
        ang = rng.uniform(0, math.pi)
        dx, dy = math.cos(ang) * 22, math.sin(ang) * 22
        d.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=(236, 200, 120), width=14)
        d.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=(250, 222, 150), width=6)
    # A child's plastic bowl with a spoon.
    soft_shadow(img, (980, 140, 1260, 380))
    d.ellipse((980, 140, 1260, 380), fill=(40, 120, 210))
    d.ellipse((1010, 165, 1230, 355), fill=(250, 240, 220))
    d.line((1180, 260, 1340, 120), fill=(250, 180, 40), width=22)
    # A baby bottle lying on its side.
    soft_shadow(img, (980, 470, 1330, 560))
    d.rounded_rectangle((1000, 470, 1260, 550), radius=30, fill=(248, 248, 250))
    d.rounded_rectangle((1250, 476, 1320, 544), radius=14, fill=(120, 190, 230))
    d.rectangle((1020, 478, 1150, 542), fill=(252, 252, 240))
    for i in range(5):
        d.line((1040 + i * 40, 478, 1040 + i * 40, 494), fill=(120, 120, 130), width=3)
    # A mug of tea.
    soft_shadow(img, (120, 900, 330, 1100))
    d.ellipse((120, 900, 330, 1100), fill=(236, 236, 232))
    d.ellipse((142, 922, 308, 1078), fill=(150, 96, 56))
    d.arc((300, 950, 380, 1050), start=-70, end=70, fill=(236, 236, 232), width=18)

    # An energy bill, slightly askew, "FINAL REMINDER" in red; an invented supplier.
    paper = Image.new("RGBA", (520, 700), (248, 247, 242, 255))
    pd = ImageDraw.Draw(paper)
    pd.text((34, 30), "NorthGrid Home Energy", font=font(26), fill=(40, 60, 90))
    pd.text((34, 90), "FINAL REMINDER", font=font(48), fill=(196, 20, 28))
    for i, line in enumerate(["Account 000 000 000 (demo)", "Amount now due: 148.20",
                              "Please pay within 7 days", "to avoid further action."]):
        pd.text((34, 180 + i * 40), line, font=font(24), fill=(30, 30, 30))
    for i in range(10):
        pd.line((34, 360 + i * 28, 34 + int(rng.integers(300, 450)), 360 + i * 28), fill=(170, 170, 170), width=6)
    paper = paper.rotate(-8, expand=True, resample=Image.Resampling.BICUBIC)
    soft_shadow(img, (1010, 620, 1530, 1300), offset=(18, 12), blur=24, strength=90)
    img.paste(paper, (980, 600), paper)
    d = ImageDraw.Draw(img)
    # A few coins next to it.
    for i, (cx, cy, r, col) in enumerate([(860, 980, 38, (190, 190, 196)), (930, 1040, 30, (184, 112, 70)),
                                          (800, 1070, 26, (184, 112, 70)), (900, 920, 24, (200, 200, 204))]):
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=col, outline=tuple(int(c * 0.7) for c in col), width=4)
    return photo_finish(img, rng, blur=0.9, grain=5.5, vignette=0.4, tint=(1.05, 1.0, 0.9))


def with_gps_canary() -> Image.Exif:
    """EXIF a phone would write, including a GPS fix, for the strip-metadata demo."""
    exif = Image.Exif()
    exif[Base.Make] = "ChorusDemo"
    exif[Base.Model] = "Invented Phone 1"
    exif[Base.Software] = "make_demo_media.py"
    exif[Base.DateTime] = CANARY_TAKEN
    exif[Base.ImageDescription] = "CHORUS-DEMO-CANARY"
    exif[Base.Artist] = "CHORUS-DEMO-CANARY"
    sub = exif.get_ifd(IFD.Exif)
    sub[Base.DateTimeOriginal] = CANARY_TAKEN
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    gps[GPS.GPSLatitudeRef] = "N"
    gps[GPS.GPSLatitude] = tuple(n / d for n, d in CANARY_LAT)
    gps[GPS.GPSLongitudeRef] = "W"
    gps[GPS.GPSLongitude] = tuple(n / d for n, d in CANARY_LON)
    gps[GPS.GPSAltitudeRef] = 0
    gps[GPS.GPSAltitude] = CANARY_ALT[0] / CANARY_ALT[1]
    gps[GPS.GPSDateStamp] = CANARY_TAKEN[:10]
    return exif


# ----------------------------------------------------------------------------- drawings


class Crayon:
    """A sheet of paper and a child's wax crayons.

    Strokes are drawn into a mask, wobbled, drawn twice slightly apart, then multiplied by
    a waxy texture (paper tooth shows through), which is what makes them read as crayon.
    """

    def __init__(self, rng: np.random.Generator, size=DRAWING_SIZE, paper=(250, 248, 240)):
        self.rng = rng
        self.size = size
        w, h = size
        self.a = np.empty((h, w, 3), np.float32)
        self.a[:] = paper
        tooth = fractal(rng, w, h, base=150, octaves=2, persistence=0.7)
        self.tex = np.clip(0.35 + tooth * 1.1, 0, 1) * 0.92

    def _wobble(self, pts, amount):
        out = []
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            n = max(2, int(math.hypot(x1 - x0, y1 - y0) / 10))
            for i in range(n):
                t = i / n
                out.append([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t])
        out.append(list(pts[-1]))
        out = np.array(out, np.float32)
        drift = np.cumsum(self.rng.normal(0, amount * 0.35, out.shape), axis=0)
        drift -= np.linspace(0, 1, len(out))[:, None] * drift[-1]  # ends land where meant
        return [tuple(p) for p in (out + drift)]

    def apply(self, mask: Image.Image, colour, strength=1.0):
        m = np.asarray(mask, np.float32) / 255.0
        alpha = (m * self.tex * strength)[:, :, None]
        self.a = self.a * (1 - alpha) + np.array(colour, np.float32) * alpha

    def line(self, pts, colour, width=9, wobble=4.0, passes=2):
        mask = Image.new("L", self.size, 0)
        d = ImageDraw.Draw(mask)
        for _ in range(passes):
            d.line(self._wobble(pts, wobble), fill=255, width=width, joint="curve")
        self.apply(mask, colour)

    def circle(self, cx, cy, r, colour, width=9, wobble=3.0):
        n = max(12, int(r / 4))
        pts = [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n + 2)]
        self.line(pts, colour, width, wobble)

    def fill(self, polygon, colour, spacing=14, angle=0.6, strength=0.85):
        """Scribble back and forth across a shape, spilling a little over the edge."""
        region = Image.new("L", self.size, 0)
        ImageDraw.Draw(region).polygon(polygon, fill=255)
        region = region.filter(ImageFilter.MaxFilter(9))
        xs = [p[0] for p in polygon]
        ys = [p[1] for p in polygon]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        span = (x1 - x0) + (y1 - y0)
        zig = []
        ca, sa = math.cos(angle), math.sin(angle)
        for i, off in enumerate(np.arange(-span, span, spacing)):
            p = (x0 + (x1 - x0) / 2 + off * ca - span * sa, y0 + (y1 - y0) / 2 + off * sa + span * ca)
            q = (x0 + (x1 - x0) / 2 + off * ca + span * sa, y0 + (y1 - y0) / 2 + off * sa - span * ca)
            zig.extend([p, q] if i % 2 == 0 else [q, p])
        mask = Image.new("L", self.size, 0)
        ImageDraw.Draw(mask).line(self._wobble(zig, 2.0), fill=255, width=spacing + 7)
        m = Image.fromarray((np.asarray(mask, np.float32) * np.asarray(region, np.float32) / 255).astype(np.uint8))
        self.apply(m, colour, strength)

    def words(self, text, x, y, size, colours, tilt=4.0):
        """Big letters, each a little rotated and bobbing, like a child writing them.

        The size shrinks until the words fit on the sheet: OCR should see every letter.
        """
        room = self.size[0] - x - 30
        while size > 20 and self._advance(text, size) > room:
            size -= 4
        f = font(size)
        cx = x
        for i, ch in enumerate(text):
            if ch == " ":
                cx += size * 0.45
                continue
            tile = Image.new("L", (size * 2, size * 2), 0)
            ImageDraw.Draw(tile).text((size // 2, size // 4), ch, font=f, fill=255, stroke_width=max(3, size // 22), stroke_fill=255)
            tile = tile.rotate(float(self.rng.uniform(-tilt, tilt)), resample=Image.Resampling.BICUBIC)
            mask = Image.new("L", self.size, 0)
            mask.paste(tile, (int(cx - size // 2), int(y + self.rng.uniform(-size * 0.06, size * 0.06) - size // 4)))
            self.apply(mask, colours[i % len(colours)], 1.0)
            cx += f.getlength(ch) + size * 0.14

    @staticmethod
    def _advance(text, size):
        f = font(size)
        return sum(size * 0.45 if ch == " " else f.getlength(ch) + size * 0.14 for ch in text)

    def image(self) -> Image.Image:
        # A child's box of crayons has few colours: a small palette keeps the PNG small.
        return to_image(self.a).quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert("RGB")


def stick_person(c: Crayon, x, y, height, colour, dress=None, hair=None, sad=False):
    head = height * 0.16
    c.circle(x, y + head, head, colour, width=7)
    c.line([(x - head * 0.4, y + head * 0.8), (x - head * 0.38, y + head * 0.84)], colour, width=9, wobble=0.5)
    c.line([(x + head * 0.4, y + head * 0.8), (x + head * 0.42, y + head * 0.84)], colour, width=9, wobble=0.5)
    if sad:
        c.line([(x - head * 0.45, y + head * 1.45), (x, y + head * 1.25), (x + head * 0.45, y + head * 1.45)], colour, width=6, wobble=0.8)
    else:
        c.line([(x - head * 0.45, y + head * 1.2), (x, y + head * 1.5), (x + head * 0.45, y + head * 1.2)], colour, width=6, wobble=0.8)
    if hair:
        for k in range(-4, 5):
            c.line([(x + k * head * 0.2, y + head * 0.05), (x + k * head * 0.3, y - head * 0.35)], hair, width=6, wobble=1)
    body_top = y + head * 2
    body_bot = y + height * 0.62
    if dress:
        c.fill([(x, body_top), (x - height * 0.2, body_bot), (x + height * 0.2, body_bot)], dress, spacing=10)
    c.line([(x, body_top), (x, body_bot)], colour, width=8)
    c.line([(x - height * 0.25, y + height * 0.4), (x, body_top + height * 0.06), (x + height * 0.25, y + height * 0.4)], colour, width=8)
    c.line([(x - height * 0.15, y + height), (x, body_bot), (x + height * 0.15, y + height)], colour, width=8)


def drawing_no_bus(rng: np.random.Generator) -> Image.Image:
    c = Crayon(rng)
    c.fill([(0, 0), (1200, 0), (1200, 70), (0, 90)], (90, 150, 230), spacing=16, strength=0.7)
    for cx in (260, 520, 860):
        for dx, dy, r in ((0, 0, 60), (60, -20, 70), (120, 0, 55)):
            c.circle(cx + dx, 150 + dy, r, (110, 110, 120), width=10)
    for _ in range(70):
        x = float(rng.uniform(30, 1170))
        y = float(rng.uniform(230, 700))
        c.line([(x, y), (x - 8, y + 30)], (40, 100, 220), width=6, wobble=0.5, passes=1)
    c.fill([(0, 760), (1200, 740), (1200, 900), (0, 900)], (60, 170, 70), spacing=16)
    c.fill([(0, 700), (1200, 690), (1200, 745), (0, 760)], (120, 120, 120), spacing=12)
    # The bus stop, with nobody coming.
    c.line([(980, 740), (985, 330)], (90, 90, 90), width=12)
    c.fill([(900, 300), (1080, 295), (1082, 400), (902, 405)], (220, 40, 40), spacing=12)
    c.line([(900, 300), (1080, 295), (1082, 400), (902, 405), (900, 300)], (40, 40, 40), width=6)
    stick_person(c, 260, 420, 330, (30, 30, 30), dress=(200, 60, 160), hair=(120, 70, 30), sad=True)
    stick_person(c, 430, 520, 230, (30, 30, 30), dress=None, hair=(240, 200, 60), sad=True)
    stick_person(c, 560, 560, 190, (30, 30, 30), dress=None, hair=(60, 40, 20), sad=True)
    c.words("NO BUS", 150, 230, 150, [(200, 20, 20), (20, 20, 20)])
    c.words("WE WALK IN THE RAIN", 120, 790, 64, [(20, 20, 120)])
    return c.image()


def drawing_cold_house(rng: np.random.Generator) -> Image.Image:
    c = Crayon(rng)
    c.words("MY HOUSE IS COLD", 90, 40, 110, [(20, 40, 160), (20, 20, 20)])
    c.fill([(0, 800), (1200, 790), (1200, 900), (0, 900)], (70, 160, 70), spacing=16)
    house = [(300, 420), (900, 420), (900, 810), (300, 810)]
    c.fill(house, (210, 120, 90), spacing=18, strength=0.6)
    c.line(house + [house[0]], (140, 40, 30), width=10)
    roof = [(260, 430), (600, 210), (940, 430)]
    c.fill(roof, (120, 40, 40), spacing=14)
    c.line(roof + [roof[0]], (60, 20, 20), width=10)
    c.fill([(560, 620), (660, 620), (660, 810), (560, 810)], (80, 50, 30), spacing=10)
    for wx in (360, 720):
        win = [(wx, 480), (wx + 140, 480), (wx + 140, 600), (wx, 600)]
        c.fill(win, (170, 210, 240), spacing=12, strength=0.6)
        c.line(win + [win[0]], (40, 40, 40), width=7)
    # Me at the window in a hat, shivering, with mould dots in the corner.
    stick_person(c, 430, 500, 100, (30, 60, 200), sad=True)
    for k in range(3):
        c.line([(470 + k * 12, 520), (480 + k * 12, 535), (470 + k * 12, 550), (480 + k * 12, 565)], (30, 60, 200), width=4, wobble=0.5)
    for _ in range(25):
        x = float(rng.uniform(722, 760))
        y = float(rng.uniform(482, 520))
        c.circle(x, y, 3, (20, 20, 20), width=5, wobble=0.2)
    # A radiator that is off, and a blue cloud breathing cold.
    c.line([(1000, 560), (1140, 560), (1140, 700), (1000, 700), (1000, 560)], (120, 120, 120), width=7)
    for k in range(5):
        c.line([(1020 + k * 26, 570), (1020 + k * 26, 690)], (120, 120, 120), width=5)
    c.words("OFF", 1010, 720, 48, [(20, 20, 20)])
    for cx, cy in ((120, 280), (180, 250), (240, 285)):
        c.circle(cx, cy, 50, (60, 120, 230), width=9)
    c.words("BRRR", 70, 340, 56, [(60, 120, 230)])
    return c.image()


def drawing_family_sun(rng: np.random.Generator) -> Image.Image:
    c = Crayon(rng)
    # A big yellow sun with a face, top left, the way it always goes.
    c.fill([(160 + 95 * math.cos(2 * math.pi * k / 16), 150 + 95 * math.sin(2 * math.pi * k / 16)) for k in range(16)],
           (250, 210, 30), spacing=14)
    c.circle(160, 150, 100, (240, 150, 20), width=12, wobble=5)
    for k in range(12):
        ang = 2 * math.pi * k / 12
        c.line([(160 + 120 * math.cos(ang), 150 + 120 * math.sin(ang)), (160 + 190 * math.cos(ang), 150 + 190 * math.sin(ang))],
               (240, 170, 20), width=10, wobble=3)
    c.circle(130, 130, 8, (30, 30, 30), width=8)
    c.circle(190, 130, 8, (30, 30, 30), width=8)
    c.line([(120, 180), (160, 205), (200, 180)], (30, 30, 30), width=7)
    c.words("ME AND MY NAN", 360, 60, 100, [(150, 30, 170), (30, 30, 30)], tilt=7)
    c.fill([(0, 760), (1200, 770), (1200, 900), (0, 900)], (60, 170, 60), spacing=18)
    stick_person(c, 380, 360, 420, (30, 30, 30), dress=(120, 120, 200), hair=(170, 170, 170))
    stick_person(c, 600, 510, 270, (30, 30, 30), dress=(240, 110, 160), hair=(240, 190, 60))
    stick_person(c, 820, 400, 380, (30, 30, 30), dress=(40, 160, 150), hair=(90, 50, 20))
    # A heart between me and Nan, and flowers in the grass.
    heart = [(510, 440), (482, 412), (478, 396), (486, 386), (498, 386), (510, 398),
             (522, 386), (534, 386), (542, 396), (538, 412)]
    c.fill(heart, (220, 20, 60), spacing=7)
    for fx in (120, 260, 1000, 1100):
        c.line([(fx, 840), (fx + 4, 760)], (40, 120, 40), width=7)
        for k in range(5):
            ang = 2 * math.pi * k / 5
            c.circle(fx + 4 + 20 * math.cos(ang), 745 + 20 * math.sin(ang), 12, (230, 60, 120), width=7, wobble=1)
    return c.image()


# ----------------------------------------------------------------------------- audio


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def speak(spec: dict, wav_out: Path, tmp: Path) -> None:
    """espeak-ng speaks; sox lifts the pitch, trims, pads and normalises to 48 kHz mono."""
    raw = tmp / (wav_out.stem + "-raw.wav")
    run(["espeak-ng", "-v", spec["voice"], "-p", str(spec["pitch"]), "-s", str(spec["speed"]),
         "-w", str(raw), spec["text"]])
    effects = []
    if spec["semitones"]:
        effects += ["pitch", str(int(spec["semitones"] * 100))]
    # -R: repeatable randomness, -D: no dither, so sox output is byte-identical run to run.
    run(["sox", "-R", "-D", str(raw), "-r", "48000", "-b", "16", "-c", "1", str(wav_out), *effects,
         "highpass", "80", "silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%", "reverse",
         "pad", "0.4", "0.6", "gain", "-n", "-2"])


def encode_opus(ffmpeg: str, wav: Path, out: Path) -> None:
    # Bit-exact flags fix the Ogg stream serial and the encoder tag, so reruns match.
    run([ffmpeg, "-y", "-loglevel", "error", "-i", str(wav), "-map_metadata", "-1",
         "-c:a", "libopus", "-b:a", "32k", "-application", "voip",
         "-fflags", "+bitexact", "-flags:a", "+bitexact", str(out)])


# ----------------------------------------------------------------------------- video


def video_frames(rng: np.random.Generator, n: int):
    """A rainy morning at the bus stop; the full bus goes by without stopping."""
    w, h = VIDEO_SIZE
    bg = vgradient(w, h, (120, 128, 142), (176, 180, 188))
    bg[300:] = np.array([74, 76, 80], np.float32)
    bg[400:] = np.array([150, 150, 146], np.float32)
    bgi = to_image(bg)
    d = ImageDraw.Draw(bgi)
    for i in range(7):
        x0 = i * 130 - 20
        d.rectangle((x0, 170, x0 + 126, 300), fill=(128 + 8 * (i % 2), 66, 50))
        d.polygon([(x0 - 4, 170), (x0 + 130, 170), (x0 + 116, 136), (x0 + 10, 136)], fill=(66, 68, 76))
        d.rectangle((x0 + 18, 196, x0 + 56, 236), fill=(90, 96, 108))
        d.rectangle((x0 + 72, 196, x0 + 110, 236), fill=(90, 96, 108))
    d.line((0, 352, w, 352), fill=(210, 210, 200), width=3)
    d.rectangle((690, 110, 700, 420), fill=(110, 112, 110))
    d.rectangle((640, 90, 750, 160), fill=(246, 246, 242), outline=(40, 40, 40), width=2)
    d.text((652, 100), "BUS STOP", font=font(20), fill=(20, 20, 20))
    d.text((670, 126), "7   X7", font=font(20), fill=(18, 60, 120))
    drops = rng.uniform(0, 1, (160, 2)).astype(np.float32) * np.array([w, h], np.float32)
    speed = rng.uniform(14, 24, 160).astype(np.float32)
    frames = []
    for i in range(n):
        img = bgi.copy()
        fd = ImageDraw.Draw(img)
        t = i / VIDEO_FPS
        # The bus crosses between 2 s and 5 s.
        bx = -420 + (t - 2.0) * 430
        if -420 < bx < w + 20:
            fd.rounded_rectangle((bx, 220, bx + 400, 350), radius=14, fill=(200, 40, 50))
            fd.rectangle((bx + 340, 232, bx + 392, 300), fill=(60, 70, 80))
            fd.rectangle((bx + 20, 236, bx + 320, 290), fill=(70, 80, 92))
            for k in range(9):
                fd.ellipse((bx + 30 + k * 32, 246, bx + 52 + k * 32, 270), fill=(220, 190, 160))
            fd.rectangle((bx + 120, 300, bx + 320, 326), fill=(20, 20, 20))
            fd.text((bx + 130, 302), "7  BUS FULL", font=font(20), fill=(255, 190, 40))
            for wx in (bx + 70, bx + 320):
                fd.ellipse((wx - 26, 330, wx + 26, 382), fill=(30, 30, 30))
        drops[:, 1] = (drops[:, 1] + speed) % h
        drops[:, 0] = (drops[:, 0] - speed * 0.15) % w
        for x0, y0 in drops:
            fd.line((x0, y0, x0 - 3, y0 + 14), fill=(210, 216, 226), width=1)
        # The diarist's trainers at the kerb, and a clock that keeps going.
        fd.ellipse((300, 384, 396, 424), fill=(240, 240, 240), outline=(60, 60, 60), width=2)
        fd.ellipse((420, 386, 516, 426), fill=(240, 240, 240), outline=(60, 60, 60), width=2)
        minute = 2 + int(t * 1.2)
        fd.rectangle((14, 14, 150, 58), fill=(0, 0, 0))
        fd.text((26, 20), f"08:{minute:02d}", font=font(30), fill=(255, 255, 255))
        fd.rectangle((0, h - 52, w, h), fill=(0, 0, 0))
        fd.text((20, h - 44), "DAY 3  waiting for the 7", font=font(28), fill=(255, 255, 255))
        frames.append(img.tobytes())
    return frames


def make_video(ffmpeg: str, rng: np.random.Generator, tmp: Path, out: Path) -> None:
    wav = tmp / "video-voice.wav"
    speak(VIDEO_SPEECH, wav, tmp)
    seconds = float(subprocess.run(["soxi", "-D", str(wav)], check=True, capture_output=True, text=True).stdout)
    if seconds > 7.9:
        raise SystemExit(f"video soundtrack is {seconds:.2f}s; it must stay under 8s")
    n = int(math.ceil(seconds * VIDEO_FPS))
    frames = video_frames(rng, n)
    w, h = VIDEO_SIZE
    cmd = [ffmpeg, "-y", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(VIDEO_FPS), "-i", "-",
           "-i", str(wav), "-map", "0:v", "-map", "1:a", "-map_metadata", "-1",
           "-c:v", "libx264", "-preset", "slow", "-crf", "28", "-pix_fmt", "yuv420p", "-profile:v", "main",
           "-threads", "1", "-x264-params", "threads=1",
           "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", "48000",
           "-shortest", "-movflags", "+faststart",
           "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", str(out)]
    subprocess.run(cmd, input=b"".join(frames), check=True)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write (default: archive/demo/media)")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox", "soxi"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install espeak-ng sox")
    import imageio_ffmpeg  # imported here so the error above comes first when tools are missing

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    # One seed per file, so changing one scene never changes the others.
    photos = {
        "photo-bus-stop.jpg": (photo_bus_stop, 101),
        "photo-damp-wall.jpg": (photo_damp_wall, 102),
        "photo-broken-swing.jpg": (photo_park_swing, 103),
        "photo-kitchen-table.jpg": (photo_kitchen_table, 104),
    }
    for name, (fn, seed) in photos.items():
        img = fn(np.random.default_rng(seed))
        kwargs = dict(quality=80, subsampling="4:2:0", optimize=True)
        if name == "photo-damp-wall.jpg":
            kwargs["exif"] = with_gps_canary()
        img.save(out / name, "JPEG", **kwargs)

    drawings = {
        "drawing-no-bus.png": (drawing_no_bus, 201),
        "drawing-cold-house.png": (drawing_cold_house, 202),
        "drawing-me-and-my-nan.png": (drawing_family_sun, 203),
    }
    for name, (fn, seed) in drawings.items():
        fn(np.random.default_rng(seed)).save(out / name, "PNG", optimize=True)

    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for name, spec in VOICE_NOTES.items():
            wav = tmp / (Path(name).stem + ".wav")
            speak(spec, wav, tmp)
            encode_opus(ffmpeg, wav, out / name)
        make_video(ffmpeg, np.random.default_rng(301), tmp, out / VIDEO_NAME)

    print("| file | bytes | sha256 |")
    print("| --- | ---: | --- |")
    total = 0
    for path in sorted(out.iterdir()):
        data = path.read_bytes()
        total += len(data)
        print(f"| {path.name} | {len(data)} | {hashlib.sha256(data).hexdigest()} |")
    print(f"total bytes: {total}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
