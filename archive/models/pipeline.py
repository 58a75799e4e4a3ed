"""Where each artefact is in the processing pipeline, step by step, so a crash resumes and a facilitator can see why."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .artefact import Artefact
from .base import Base, str_enum, utcnow


class StepState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class PipelineStep(Base):
    __tablename__ = "pipeline_step"
    __table_args__ = (UniqueConstraint("artefact_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    position: Mapped[int]
    state: Mapped[StepState] = mapped_column(str_enum(StepState), default=StepState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    artefact: Mapped[Artefact] = relationship()
