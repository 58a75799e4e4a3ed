"""The Chorus domain model (SQLAlchemy 2 typed ORM)."""

from .analysis import AreaBoundary, PopulationFigure
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
from .exhibit import Exhibit, ExhibitExport, ExhibitItem, ExhibitSection
from .exports import ExportItem, ExportRecord, Quote
from .parent_consent import ParentConsentLink
from .people import Membership, Participant, User
from .pipeline import PipelineStep, StepState
from .programme import CustomTheme, ListeningSession, Programme
from .search import SearchDocument, SearchWord

__all__ = [
    "AgeBand", "Artefact", "ArtefactKind", "ArtefactStatus", "AuditEvent", "Base", "ConsentGiver",
    "ConsentLevel", "ConsentMethod", "ConsentRecord", "ConsentScope", "CustomTheme", "Derivative",
    "Exhibit", "ExhibitExport", "ExhibitItem", "ExhibitSection", "ExhibitStatus", "ParentConsentLink", "ListeningSession", "Membership",
    "Participant", "PersonalDetailFlag", "Redaction", "PipelineStep", "PlaceType", "Polarity", "Programme", "Role", "SearchDocument", "SearchWord", "StepState", "TagSource", "TagStatus", "ThemeTag",
    "Transcript", "TranscriptRevision", "TranscriptSegment", "TranscriptStatus", "User", "utcnow",
    "ExportItem", "ExportRecord", "Quote",
    "AreaBoundary", "PopulationFigure",
]
