"""The Chorus domain model (SQLAlchemy 2 typed ORM)."""

from .artefact import Artefact, Derivative, PersonalDetailFlag, ThemeTag, Transcript, TranscriptSegment
from .audit import AuditEvent
from .base import Base, utcnow
from .consent_record import ConsentRecord
from .curation import Redaction, TranscriptRevision
from .enums import (
    AgeBand,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    ConsentScope,
    ExhibitStatus,
    PlaceType,
    Polarity,
    Role,
    TagSource,
    TagStatus,
    TranscriptStatus,
)
from .exhibit import Exhibit, ExhibitItem, ExhibitSection
from .people import Membership, Participant, User
from .pipeline import PipelineStep, StepState
from .programme import CustomTheme, ListeningSession, Programme

__all__ = [
    "AgeBand", "Artefact", "ArtefactKind", "ArtefactStatus", "AuditEvent", "Base", "ConsentGiver",
    "ConsentLevel", "ConsentMethod", "ConsentRecord", "ConsentScope", "CustomTheme", "Derivative",
    "Exhibit", "ExhibitItem", "ExhibitSection", "ExhibitStatus", "ListeningSession", "Membership",
    "Participant", "PersonalDetailFlag", "Redaction", "PipelineStep", "PlaceType", "Polarity", "Programme", "Role", "StepState", "TagSource", "TagStatus", "ThemeTag",
    "Transcript", "TranscriptRevision", "TranscriptSegment", "TranscriptStatus", "User", "utcnow",
]
