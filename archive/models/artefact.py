"""What participants share, and everything the pipeline derives from it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt, IntEnumType, new_uuid, str_enum, utcnow
from .enums import (
    ArtefactKind,
    ArtefactStatus,
    ConsentLevel,
    Polarity,
    TagSource,
    TagStatus,
    TranscriptStatus,
)
from .people import Participant, User
from .programme import ListeningSession


class Artefact(CreatedAt, Base):
    """A photo, drawing, voice note, video diary or written story.

    After withdrawal the row stays as a tombstone (id, dates, status) with every piece of
    content cleared, so audits, consent history and fixity checks can say what was erased.
    """

    __tablename__ = "artefact"
    __table_args__ = (UniqueConstraint("participant_id", "upload_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("listening_session.id"), index=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"), index=True)
    kind: Mapped[ArtefactKind] = mapped_column(str_enum(ArtefactKind))
    title: Mapped[str] = mapped_column(String(200), default="")
    story: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[ArtefactStatus] = mapped_column(
        str_enum(ArtefactStatus), default=ArtefactStatus.RECEIVED, index=True
    )
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Supplied by the client so a retried upload becomes the same artefact, not a second one.
    upload_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    master_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The name the file had on the device: kept only escaped and truncated, never used as a path.
    original_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # Words read from a drawing or photo (media.ocr), one line per row: a hint for tagging and search.
    image_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The pipeline saw faces: beyond the team only a blurred picture may be shown without face consent.
    has_faces: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Derived from the consent records by archive.consent.refresh_consent and nowhere else:
    # it lets every listing filter by consent inside the query.
    consent_level: Mapped[ConsentLevel] = mapped_column(IntEnumType(ConsentLevel), default=ConsentLevel.NONE, index=True)
    consent_credit: Mapped[bool] = mapped_column(default=False)
    consent_face: Mapped[bool] = mapped_column(default=False)
    consent_voice: Mapped[bool] = mapped_column(default=False)
    # A voice note telling a photo's story points at the photo, so withdrawing the photo takes it too.
    attached_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("artefact.id"), nullable=True, index=True)

    participant: Mapped[Participant] = relationship()
    attached_to: Mapped["Artefact | None"] = relationship(remote_side=[id])
    session: Mapped[ListeningSession] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
    derivatives: Mapped[list["Derivative"]] = relationship(
        back_populates="artefact", cascade="all, delete-orphan"
    )
    transcript: Mapped["Transcript | None"] = relationship(
        back_populates="artefact", cascade="all, delete-orphan", uselist=False
    )
    tags: Mapped[list["ThemeTag"]] = relationship(back_populates="artefact", cascade="all, delete-orphan")

    @property
    def storage_prefix(self) -> str:
        return f"artefacts/{self.id}/"


class Derivative(CreatedAt, Base):
    """A file made from the master: thumbnail, web image, 16 kHz audio, proxy, poster, waveform."""

    __tablename__ = "derivative"
    __table_args__ = (UniqueConstraint("artefact_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    object_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(nullable=True)
    height: Mapped[int | None] = mapped_column(nullable=True)

    artefact: Mapped[Artefact] = relationship(back_populates="derivatives")


class Transcript(CreatedAt, Base):
    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("artefact.id", ondelete="CASCADE"), unique=True
    )
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_name: Mapped[str] = mapped_column(String(64), default="")
    no_speech: Mapped[bool] = mapped_column(default=False)
    edited: Mapped[bool] = mapped_column(default=False)
    status: Mapped[TranscriptStatus] = mapped_column(
        str_enum(TranscriptStatus), default=TranscriptStatus.DRAFT
    )
    # Bumped by every saved correction (archive.curation.transcripts): editors send the version they
    # started from, so two people editing the same segment are told rather than overwritten.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    artefact: Mapped[Artefact] = relationship(back_populates="transcript")
    segments: Mapped[list["TranscriptSegment"]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="TranscriptSegment.position"
    )

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


class TranscriptSegment(Base):
    __tablename__ = "transcript_segment"
    __table_args__ = (UniqueConstraint("transcript_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"))
    position: Mapped[int]
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    words: Mapped[list | None] = mapped_column(JSON, nullable=True)
    speaker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # A person corrected this segment: re-running transcription must not overwrite it.
    locked: Mapped[bool] = mapped_column(default=False)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")


class ThemeTag(CreatedAt, Base):
    __tablename__ = "theme_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    framework: Mapped[str] = mapped_column(String(64))
    theme: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[TagSource] = mapped_column(str_enum(TagSource))
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence_start: Mapped[int | None] = mapped_column(nullable=True)
    evidence_end: Mapped[int | None] = mapped_column(nullable=True)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="SET NULL"), nullable=True
    )
    polarity: Mapped[Polarity] = mapped_column(str_enum(Polarity), default=Polarity.NEUTRAL)
    status: Mapped[TagStatus] = mapped_column(str_enum(TagStatus), default=TagStatus.SUGGESTED)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    artefact: Mapped[Artefact] = relationship(back_populates="tags")


class PersonalDetailFlag(CreatedAt, Base):
    """A likely personal detail in an artefact's words, for a facilitator to check before report or exhibit use."""

    __tablename__ = "personal_detail_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # transcript, story or image_text
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    # Offsets only: storing the matched text would be one more copy for redaction and erasure to chase.
    start: Mapped[int]
    end: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="flagged")  # flagged, kept, redacted, not_personal
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
