"""run_search: the configured backend, cross-checked against the database's consent gate."""

from __future__ import annotations

import pytest

from archive.consent import Context
from archive.models import ConsentLevel, Role
from archive.principal import staff_principal
from search.index import index_artefact
from search.query import search
from search.service import QueryError, run_search


def _indexed(make, services, **kwargs):
    artefact = make.shared(**kwargs)
    index_artefact(services.settings.index_dir, artefact)
    return artefact


def test_a_hit_the_database_already_hides_is_absent_before_the_index_catches_up(make, services, db):
    kept = _indexed(make, services, story="The skate park is closed")
    programme_id = kept.programme_id
    participant = make.participant(make.session(db.get(type(kept.session), kept.session_id).programme))
    make.consent(participant, ConsentLevel.REPORT)
    gone = make.artefact(participant, story="The skate park lights are broken")
    index_artefact(services.settings.index_dir, gone)
    analyst = staff_principal(make.staff(kept.session.programme, Role.ANALYST))
    before = run_search(services, analyst, Context.ANALYSIS, "skate")
    assert before.total == 2
    # Consent narrowed in the database; the queue has not re-indexed yet.
    make.consent(participant, ConsentLevel.TEAM)
    lagging = search(services.settings.index_dir, analyst, Context.ANALYSIS, "skate")
    assert lagging.total == 2, "the index was meant to lag the database here"
    after = run_search(services, analyst, Context.ANALYSIS, "skate")
    assert {h.id for h in after.hits} == {str(kept.id)}
    assert after.total == 1
    assert sum(after.facets["kind"].values()) == 1
    assert programme_id == gone.programme_id


def test_bad_sort_is_a_query_error(make, services):
    artefact = _indexed(make, services, story="Buses")
    analyst = staff_principal(make.staff(artefact.session.programme, Role.ANALYST))
    with pytest.raises(QueryError):
        run_search(services, analyst, Context.ANALYSIS, "bus", sort="sideways")


def test_an_index_from_an_older_schema_is_reported_then_rebuilt_by_the_next_index_job(make, services, db):
    from search.index import index_status, live_dir

    index_dir = services.settings.index_dir
    first = _indexed(make, services, story="The library is warm")
    analyst = staff_principal(make.staff(first.session.programme, Role.ANALYST))
    assert index_status(index_dir) == "current"
    (live_dir(index_dir) / "chorus-schema-version").write_text("1\n")  # as an older Chorus left it
    assert index_status(index_dir) == "stale"
    with pytest.raises(QueryError, match="chorus reindex"):
        run_search(services, analyst, Context.ANALYSIS, "library")
    second = make.shared(story="The library shuts early", programme=first.session.programme)
    index_artefact(index_dir, second)  # the worker's next job rebuilds the whole index
    assert index_status(index_dir) == "current"
    assert {h.id for h in run_search(services, analyst, Context.ANALYSIS, "library").hits} == {str(first.id), str(second.id)}


def test_the_version_marker_survives_whoosh_commits_and_merges(make, services):
    from search.index import index_status, remove_artefact

    index_dir = services.settings.index_dir
    items = [_indexed(make, services, story=f"Story {n}") for n in range(3)]
    remove_artefact(index_dir, items[0].id)  # an optimising commit rewrites the segment files
    assert index_status(index_dir) == "current"


def test_a_hidden_hit_older_than_the_window_is_still_never_shown(make, services, db):
    from datetime import timedelta

    from sqlalchemy import update

    from archive.models import Artefact, utcnow

    kept = _indexed(make, services, story="The swings are broken")
    participant = make.participant(make.session(kept.session.programme))
    make.consent(participant, ConsentLevel.REPORT)
    stuck = make.artefact(participant, story="The swings are new")
    index_artefact(services.settings.index_dir, stuck)
    make.consent(participant, ConsentLevel.TEAM)
    # As if the re-index job had been failing for longer than the window the service looks back over.
    db.execute(update(Artefact).where(Artefact.id == stuck.id).values(updated_at=utcnow() - timedelta(days=30)))
    db.commit()
    analyst = staff_principal(make.staff(kept.session.programme, Role.ANALYST))
    result = run_search(services, analyst, Context.ANALYSIS, "swings")
    assert {h.id for h in result.hits} == {str(kept.id)}
    assert result.total == 1 and result.facets["kind"] == {"text_story": 1}


def test_withdrawn_items_vanish_from_search_at_once(make, services, db):
    from archive.models import ArtefactStatus

    item = _indexed(make, services, story="Our street has no lights")
    analyst = staff_principal(make.staff(item.session.programme, Role.ANALYST))
    item.status = ArtefactStatus.WITHDRAWN  # the index still holds it until erasure runs
    db.commit()
    result = run_search(services, analyst, Context.ANALYSIS, "lights")
    assert result.total == 0 and result.hits == [] and result.facets["kind"] == {}
