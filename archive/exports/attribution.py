"""Who said it, as far as consent allows: the alias with `credit`, otherwise only an age band."""

from __future__ import annotations

from flask_babel import lazy_gettext

from ..consent import Context, may_credit
from ..models import AgeBand, Artefact
from ..principal import Principal

ANONYMOUS_BY_BAND = {
    AgeBand.FAMILY_0_5: lazy_gettext("a parent or carer of a child aged 0-5"),
    AgeBand.AGE_5_11: lazy_gettext("a child aged 5-11"),
    AgeBand.AGE_11_15: lazy_gettext("a young person aged 11-15"),
    AgeBand.AGE_16_19: lazy_gettext("a young person aged 16-19"),
    AgeBand.AGE_20_25_SEND: lazy_gettext("a young adult aged 20-25"),
}


def credited_alias(principal: Principal, artefact: Artefact) -> str:
    """The participant's alias where they asked to be credited in reports; empty otherwise."""
    return artefact.participant.alias if may_credit(principal, Context.REPORT_EXPORT, artefact) else ""


def attribution(principal: Principal, artefact: Artefact) -> str:
    alias = credited_alias(principal, artefact)
    band = str(ANONYMOUS_BY_BAND[artefact.participant.age_band])
    return f"{alias}, {band}" if alias else band
