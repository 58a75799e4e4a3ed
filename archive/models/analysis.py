"""What a programme tells Chorus about its places and people, so counts can be mapped and read as rates."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt, str_enum
from .enums import AgeBand


class AreaBoundary(CreatedAt, Base):
    """One area's outline from the boundary GeoJSON a programme uploaded (longitude, latitude)."""

    __tablename__ = "area_boundary"
    __table_args__ = (UniqueConstraint("programme_id", "area_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    # A GeoJSON Polygon or MultiPolygon geometry, already validated (archive.analysis.boundaries).
    geometry: Mapped[dict] = mapped_column(JSON)


class PopulationFigure(CreatedAt, Base):
    """How many people of an age band live in an area: the denominator for reach rates."""

    __tablename__ = "population_figure"
    __table_args__ = (UniqueConstraint("programme_id", "area_code", "age_band"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(32))
    age_band: Mapped[AgeBand] = mapped_column(str_enum(AgeBand))
    population: Mapped[int]
