"""The demo programme's invented ward boundaries and population figures, loaded through the same checks as an upload.

The outlines sit over open water in the Irish Sea, so they match no real place or home.
"""

from __future__ import annotations

import json
from importlib.resources import files

from sqlalchemy.orm import Session

from ..analysis.boundaries import parse_boundaries, replace_boundaries
from ..analysis.reach import parse_population, replace_population
from ..models import Programme
from ..principal import SYSTEM


def load_demo_areas(db: Session, programme: Programme) -> None:
    here = files("archive.demo")
    replace_boundaries(db, SYSTEM, programme, parse_boundaries(here.joinpath("boundaries.geo.json").read_bytes()))
    lines = json.loads(here.joinpath("population.json").read_text(encoding="utf-8"))["csv"]
    replace_population(db, SYSTEM, programme, parse_population("\n".join(lines).encode("utf-8")))
