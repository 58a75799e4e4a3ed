"""The domain's closed vocabularies."""

from __future__ import annotations

from enum import Enum, IntEnum


class ConsentLevel(IntEnum):
    """Each level needs the one before: exhibit implies report implies team."""

    NONE = 0
    TEAM = 1
    REPORT = 2
    EXHIBIT = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> "ConsentLevel":
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown consent level {value!r}: use none, team, report or exhibit") from None


class AgeBand(str, Enum):
    FAMILY_0_5 = "family_0_5"  # the participant is the parent or carer of a child under five
    AGE_5_11 = "5_11"
    AGE_11_15 = "11_15"
    AGE_16_19 = "16_19"
    AGE_20_25_SEND = "20_25_send"

    @property
    def label(self) -> str:
        return {
            "family_0_5": "Families with children aged 0 to 5",
            "5_11": "Children aged 5 to 11",
            "11_15": "Young people aged 11 to 15",
            "16_19": "Young people aged 16 to 19",
            "20_25_send": "Young adults aged 20 to 25 with SEND",
        }[self.value]


class PlaceType(str, Enum):
    SCHOOL = "school"
    FAMILY_HUB = "family_hub"
    YOUTH_CLUB = "youth_club"
    COMMUNITY = "community"
    HOME = "home"
    ONLINE = "online"
    OTHER = "other"


class ConsentScope(str, Enum):
    PARTICIPANT = "participant"  # the participant's default for everything they share
    ARTEFACT = "artefact"  # narrows the default for one item


class ConsentGiver(str, Enum):
    PARTICIPANT = "participant"  # the person themself: a young person, or the parent in a family group
    PARENT_CARER = "parent_carer"  # on behalf of a child


class ConsentMethod(str, Enum):
    IN_APP = "in_app"
    PAPER = "paper"
    VERBAL_WITNESSED = "verbal_witnessed"  # recorded by a facilitator, with a named witness


class ArtefactKind(str, Enum):
    PHOTO = "photo"
    DRAWING = "drawing"
    VOICE_NOTE = "voice_note"
    VIDEO_DIARY = "video_diary"
    TEXT_STORY = "text_story"


class ArtefactStatus(str, Enum):
    RECEIVED = "received"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class TagSource(str, Enum):
    MODEL = "model"
    PARTICIPANT = "participant"
    FACILITATOR = "facilitator"


class Polarity(str, Enum):
    BARRIER = "barrier"
    ASSET = "asset"
    NEUTRAL = "neutral"


class TagStatus(str, Enum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class TranscriptStatus(str, Enum):
    DRAFT = "draft"
    READY_FOR_CHECK = "ready_for_check"
    APPROVED = "approved"


class Role(str, Enum):
    ADMIN = "admin"
    FACILITATOR = "facilitator"
    ANALYST = "analyst"


class ExhibitStatus(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
