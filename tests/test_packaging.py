"""`pip install .` builds a real wheel that carries everything the app needs at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_templates_static_assets_data_and_migrations(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("chorus_archive-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        "templates/layouts/base.html",
        "templates/participant/join.html",
        "archive/web/static/govuk/govuk-frontend.min.css",
        "archive/web/static/govuk/LICENSE",
        "archive/web/static/participant.css",
        "archive/frameworks/determinants.json",
        "archive/migrations/env.py",
        "archive/migrations/versions/0001_initial_schema.py",
        "archive/demo/content.json",
        "archive/demo/media/photo-bus-stop.jpg",
        "archive/demo/media/voice-walk-to-school.ogg",
    ]
    assert [name for name in expected if name not in names] == []
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "chorus = archive.cli:main" in entry_points
