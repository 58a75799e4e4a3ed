"""What people read for the archive's coded values: kinds, age groups, polarity, place types.

One table per value, in the forms the pages need: a single item ("Photo") and a count of them
("Photos"); an age group in full for the people choosing it and short for chart axes. Keeping
them together keeps the same value from being called two things on two pages.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

from .models import AgeBand, ArtefactKind, PlaceType, Polarity

KIND = {
    ArtefactKind.PHOTO: lazy_gettext("Photo"),
    ArtefactKind.DRAWING: lazy_gettext("Drawing"),
    ArtefactKind.VOICE_NOTE: lazy_gettext("Voice note"),
    ArtefactKind.VIDEO_DIARY: lazy_gettext("Video diary"),
    ArtefactKind.TEXT_STORY: lazy_gettext("Written story"),
}
KIND_PLURAL = {
    ArtefactKind.PHOTO: lazy_gettext("Photos"),
    ArtefactKind.DRAWING: lazy_gettext("Drawings"),
    ArtefactKind.VOICE_NOTE: lazy_gettext("Voice notes"),
    ArtefactKind.VIDEO_DIARY: lazy_gettext("Video diaries"),
    ArtefactKind.TEXT_STORY: lazy_gettext("Written stories"),
}
POLARITY = {
    Polarity.BARRIER: lazy_gettext("Barrier"),
    Polarity.ASSET: lazy_gettext("Asset"),
    Polarity.NEUTRAL: lazy_gettext("Neither"),
}
AGE_BAND = {  # for the people choosing theirs
    AgeBand.FAMILY_0_5: lazy_gettext("Families with children aged 0 to 5"),
    AgeBand.AGE_5_11: lazy_gettext("Children aged 5 to 11"),
    AgeBand.AGE_11_15: lazy_gettext("Young people aged 11 to 15"),
    AgeBand.AGE_16_19: lazy_gettext("Young people aged 16 to 19"),
    AgeBand.AGE_20_25_SEND: lazy_gettext("Young adults aged 20 to 25 with SEND"),
}
AGE_BAND_SHORT = {  # for chart axes and table headings
    AgeBand.FAMILY_0_5: lazy_gettext("Families, 0 to 5"),
    AgeBand.AGE_5_11: lazy_gettext("5 to 11"),
    AgeBand.AGE_11_15: lazy_gettext("11 to 15"),
    AgeBand.AGE_16_19: lazy_gettext("16 to 19"),
    AgeBand.AGE_20_25_SEND: lazy_gettext("20 to 25 (SEND)"),
}
PLACE_TYPE = {
    PlaceType.SCHOOL: lazy_gettext("School"),
    PlaceType.FAMILY_HUB: lazy_gettext("Family hub"),
    PlaceType.YOUTH_CLUB: lazy_gettext("Youth club"),
    PlaceType.COMMUNITY: lazy_gettext("Community venue"),
    PlaceType.HOME: lazy_gettext("Home visit"),
    PlaceType.ONLINE: lazy_gettext("Online"),
    PlaceType.OTHER: lazy_gettext("Somewhere else"),
}
