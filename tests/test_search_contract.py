"""The search contract, run on both backends: Whoosh (embedded) and PostgreSQL full text (real server).

Everything goes through ``search.service.run_search``, as the pages, the API and the command do.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from archive import schema
from archive.consent import Context
from archive.db import make_engine
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentLevel,
    Polarity,
    Role,
    SearchDocument,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
    TranscriptStatus,
)
from archive.principal import Principal, staff_principal
from archive.services import Services
from archive.settings import load_settings
from search.backends import backend_for
from search.service import QueryError, run_search

from .conftest import Factory


@pytest.fixture(params=["whoosh", "postgres"])
def backend_name(request):
    return request.param


@pytest.fixture(scope="session")
def migrated_postgres_template(_postgres_cluster):
    """A migrated database that each PostgreSQL test copies (CREATE DATABASE ... TEMPLATE), instead of migrating."""
    from tests.servers.postgres import USER, _admin

    name = f"search_template_{secrets.token_hex(4)}"
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    engine = make_engine(f"postgresql+psycopg://{USER}@127.0.0.1:{_postgres_cluster.port}/{name}")
    schema.upgrade(engine)
    engine.dispose()
    yield name
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def migrated_postgres_url(_postgres_cluster, migrated_postgres_template):
    from tests.servers.postgres import USER, _admin

    name = f"search_{secrets.token_hex(6)}"
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {migrated_postgres_template}")
    yield f"postgresql+psycopg://{USER}@127.0.0.1:{_postgres_cluster.port}/{name}"
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def env(request, backend_name, tmp_path, migrated_sqlite):
    """Services on SQLite + Whoosh, or on a fresh PostgreSQL database with the postgres backend."""
    from ingest.jobs import bind_services
    from ingest.queue import configure_queue

    if backend_name == "postgres":
        url = request.getfixturevalue("migrated_postgres_url")
        settings = load_settings(data_dir=tmp_path / "data", queue_url="memory://", database_url=url,
                                 search_backend="postgres")
    else:
        settings = load_settings(data_dir=tmp_path / "data", queue_url="memory://")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_sqlite, settings.data_dir / "chorus.sqlite3")
    svc = Services(settings)
    svc.storage.check()
    huey = configure_queue(settings)
    huey.immediate = True
    svc.__dict__["huey"] = huey
    bind_services(svc)
    db = svc.session()
    make = Factory(db, svc.storage)
    programme = make.programme("contract")
    backend = backend_for(settings)
    yield SimpleNamespace(services=svc, db=db, make=make, programme=programme, backend=backend,
                          analyst=staff_principal(make.staff(programme, Role.ANALYST)),
                          team=staff_principal(make.staff(programme, Role.FACILITATOR)))
    db.close()
    svc.close()


def add(env, *, story="", title="An item", level=ConsentLevel.REPORT, kind=ArtefactKind.TEXT_STORY,
        themes=(), segments=(), ocr="", band=AgeBand.AGE_16_19, created=None, area="RV01", reviewed=True):
    """One indexed item: `themes` as (code, polarity) pairs, `segments` as (start, end, text)."""
    make, db = env.make, env.db
    participant = make.participant(make.session(env.programme, area=area), band=band)
    make.consent(participant, level)
    artefact = make.artefact(participant, kind=kind, story=story, title=title, reviewed=reviewed)
    artefact.image_text = ocr
    for code, polarity in themes:
        artefact.tags.append(ThemeTag(framework="determinants", theme=code, source=TagSource.MODEL,
                                      polarity=polarity, status=TagStatus.ACCEPTED))
    if segments:
        artefact.transcript = Transcript(status=TranscriptStatus.APPROVED, segments=[
            TranscriptSegment(position=n, start=s, end=e, text=t) for n, (s, e, t) in enumerate(segments)
        ])
    if created is not None:
        artefact.created_at = created
    db.commit()
    env.backend.index_artefact(db, artefact)
    return artefact


def find(env, text, who=None, context=Context.ANALYSIS, **options):
    return run_search(env.services, who or env.analyst, context, text, **options)


def ids(result) -> set[str]:
    return {h.id for h in result.hits}


# ---- consent inside the query ------------------------------------------------------------------


@pytest.fixture
def twins(env):
    common = dict(title="The bus stop", story="The buses never come on time so I am late for school.",
                  themes=[("transport", Polarity.BARRIER), ("housing", Polarity.ASSET)], kind=ArtefactKind.PHOTO)
    return SimpleNamespace(team_only=add(env, level=ConsentLevel.TEAM, **common),
                           report=add(env, level=ConsentLevel.REPORT, **common))


def test_items_differing_only_in_consent(env, twins):
    result = find(env, "bus")
    assert ids(result) == {str(twins.report.id)} and result.total == 1
    assert result.facets["themes"] == {"transport": 1, "housing": 1}
    assert result.facets["polarity"] == {"barrier": 1, "asset": 1}
    assert result.facets["kind"] == {"photo": 1}
    assert result.facets["age_band"] == {"16_19": 1}
    assert result.facets["area"] == {"RV01": 1}
    assert result.facets["place_type"] == {"school": 1}
    team = find(env, "bus", who=env.team, context=Context.TEAM)
    assert ids(team) == {str(twins.team_only.id), str(twins.report.id)}
    assert team.facets["themes"] == {"transport": 2, "housing": 2}


def test_snippets_and_facets_never_carry_a_restricted_item(env, twins):
    secret = add(env, level=ConsentLevel.TEAM, story="zebracrossing near the flats", themes=[("safety", Polarity.BARRIER)])
    for text in ("zebracrossing", "zebracross*", "zebracrossin~1", "", "theme:safety"):
        result = find(env, text)
        assert str(secret.id) not in ids(result)
        assert all("zebracrossing" not in h.snippet for h in result.hits)
        assert "safety" not in result.facets["themes"]
    assert find(env, "zebracrossing").total == 0
    assert find(env, "zebracrossing", who=env.team, context=Context.TEAM).total == 1


def test_other_programmes_and_contexts_see_nothing(env, twins):
    elsewhere = Principal(kind="staff", user_id=99, roles=frozenset({(env.programme.id + 1000, Role.ADMIN)}))
    assert find(env, "bus", who=elsewhere, context=Context.TEAM).total == 0
    assert find(env, "bus", context=Context.TEAM).total == 0  # analysts are not the team
    owner = find(env, "", context=Context.OWNER)
    assert owner.total == 0 and owner.hits == []
    anonymous = find(env, "bus", who=Principal(kind="anonymous"), context=Context.PUBLIC_EXHIBIT)
    assert anonymous.total == 0


def test_a_consent_change_in_the_database_applies_at_once(env):
    # Nothing re-indexes here: PostgreSQL's copy of the consent columns follows the artefact
    # (a trigger), and the Whoosh backend is corrected inside the query by run_search. The
    # changed item is the older one, so with one hit a page it is never on the page itself.
    day = datetime(2025, 1, 6, tzinfo=timezone.utc)
    shown = add(env, story="The bus is late", kind=ArtefactKind.PHOTO, created=day + timedelta(days=1))
    changed = add(env, story="The bus is full", kind=ArtefactKind.VOICE_NOTE, created=day)
    env.make.consent(changed.participant, ConsentLevel.TEAM)
    narrowed = find(env, "bus", pagelen=1, sort="newest")
    assert ids(narrowed) == {str(shown.id)} and narrowed.total == 1 and narrowed.facets["kind"] == {"photo": 1}
    assert find(env, "bus", who=env.team, context=Context.TEAM, pagelen=1, sort="newest").total == 2
    changed.status = ArtefactStatus.WITHDRAWN
    shown.reviewed_at = None
    env.db.commit()
    team = find(env, "bus", who=env.team, context=Context.TEAM, pagelen=1, sort="newest")
    assert ids(team) == {str(shown.id)} and team.total == 1 and team.facets["kind"] == {"photo": 1}
    assert find(env, "bus").total == 0


def test_unreviewed_items_stay_inside_the_team(env):
    add(env, story="Park unreviewed", reviewed=False)
    assert find(env, "park").total == 0
    assert find(env, "park", who=env.team, context=Context.TEAM).total == 1


# ---- language -------------------------------------------------------------------------------------


def test_stemming_phrases_and_fields(env):
    together = add(env, story="I want a safe place to play after school.")
    apart = add(env, story="This place does not feel safe at night.", title="Buses")
    assert ids(find(env, '"safe place"')) == {str(together.id)}
    assert ids(find(env, "safe place")) == {str(together.id), str(apart.id)}
    assert ids(find(env, "bus")) == {str(apart.id)}  # "Buses" in the title
    assert ids(find(env, "title:bus")) == {str(apart.id)}
    assert find(env, "story:bus").total == 0
    assert ids(find(env, "safe NOT night")) == {str(together.id)}


def test_phrases_keep_the_gaps_small_words_leave(env):
    gap = add(env, story="My new school. When I'm in a uniform I feel smart")
    exact = add(env, story="A safe place to play and a school uniform that fits")
    assert ids(find(env, '"school uniform"')) == {str(exact.id)}
    assert ids(find(env, '"safe place to play"')) == {str(exact.id)}
    assert ids(find(env, "school uniform")) == {str(gap.id), str(exact.id)}


def test_prefix_and_fuzzy_terms_are_bounded(env):
    skate = add(env, story="The skatepark is always full of older kids")
    assert ids(find(env, "skatep*")) == {str(skate.id)}
    assert ids(find(env, "skatepak~")) == {str(skate.id)}  # one letter missing
    assert ids(find(env, "skatpak~2")) == {str(skate.id)}
    assert find(env, "skatpak~1").total == 0
    for text in ("sk*", "skatepak~3", "ab~"):
        with pytest.raises(QueryError):
            find(env, text)


def test_themes_polarity_and_theme_polarity_pairs(env):
    barrier = add(env, story="Our flat is damp", themes=[("housing", Polarity.BARRIER)])
    mixed = add(env, story="Our flat is lovely but the bus is late",
                themes=[("housing", Polarity.ASSET), ("transport", Polarity.BARRIER)])
    assert ids(find(env, "theme:housing")) == {str(barrier.id), str(mixed.id)}
    assert ids(find(env, "", filters={"themes": ["housing"], "polarity": ["barrier"]})) == {str(barrier.id)}
    assert ids(find(env, "", filters={"polarity": "barrier"})) == {str(barrier.id), str(mixed.id)}
    assert ids(find(env, "flat", filters={"themes": ["HOUSING", "transport"]})) == {str(barrier.id), str(mixed.id)}
    assert find(env, "flat").hits[0].themes  # themes come back on the hit


def test_ocr_text_is_searchable(env):
    drawing = add(env, kind=ArtefactKind.DRAWING, ocr="MORE BINS PLEASE", title="My drawing")
    assert ids(find(env, "bins")) == {str(drawing.id)}
    assert ids(find(env, "ocr:bin")) == {str(drawing.id)}
    assert "<mark>BINS</mark>" in find(env, "bins").hits[0].snippet


def test_transcript_hit_names_its_segment(env):
    voice = add(env, kind=ArtefactKind.VOICE_NOTE, title="Voice note", segments=[
        (0.0, 3.5, "Hello this is me"),
        (3.5, 8.25, "We need more youth clubs near here"),
        (8.25, 12.0, "That is all"),
    ])
    result = find(env, "clubs")
    hit = result.hits[0]
    assert hit.id == str(voice.id) and hit.title == "Voice note"
    assert (hit.segment_start, hit.segment_end) == (3.5, 8.25)
    assert "<mark>clubs</mark>" in hit.snippet
    title_only = find(env, "voice").hits[0]
    assert title_only.segment_start is None and title_only.segment_end is None


def test_snippets_are_escaped(env):
    add(env, story="<script>alert(1)</script> the swings & slides are broken")
    snippet = find(env, "swings").hits[0].snippet
    assert "<mark>swings</mark>" in snippet
    assert "<" not in re.sub("</?mark>", "", snippet)
    assert "&lt;/script&gt;" in snippet and "&amp;" in snippet


# ---- filters, sorting, paging -----------------------------------------------------------------------


def test_dates_sorting_and_paging(env):
    base = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    items = [add(env, story=f"Football story {n}", created=base + timedelta(days=n)) for n in range(5)]
    newest = find(env, "football", sort="newest", pagelen=2)
    assert [h.id for h in newest.hits] == [str(items[4].id), str(items[3].id)] and newest.total == 5
    oldest = find(env, "football", sort="oldest", pagelen=2, page=3)
    assert [h.id for h in oldest.hits] == [str(items[4].id)]
    past_end = find(env, "football", page=9, pagelen=2)
    assert past_end.hits == [] and past_end.total == 5
    ranged = find(env, "", filters={"date_from": "2025-03-02", "date_to": "2025-03-03"})
    assert ids(ranged) == {str(items[1].id), str(items[2].id)}
    assert find(env, "", filters={"date_from": base.date() + timedelta(days=4)}).total == 1


def test_facet_filters(env):
    photo = add(env, story="Park", kind=ArtefactKind.PHOTO, band=AgeBand.AGE_20_25_SEND, area="RV07")
    add(env, story="Park", kind=ArtefactKind.TEXT_STORY)
    assert ids(find(env, "park", filters={"kind": ["photo"]})) == {str(photo.id)}
    assert ids(find(env, "park", filters={"age_band": "20_25_send", "area": "RV07"})) == {str(photo.id)}
    assert ids(find(env, "park", filters={"session": [str(photo.session_id)]})) == {str(photo.id)}
    assert find(env, "park", filters={"place_type": ["school"]}).total == 2
    assert find(env, "park", filters={"area": ["XX99"]}).total == 0  # unknown area: simply nothing


# ---- bad input ------------------------------------------------------------------------------------------

BAD_QUERIES = [
    "(", ")", '"unbalanced', "'", "*", "a*", "[a TO", "title:", "(((((", "\x00\u200b", "bus)", '"bus', "((bus",
    "x" * 10_000, "bus " * 2_500, "(" * 499, " OR ".join(["bus"] * 99), '"' + "bus " * 120 + '"', "NOT", "AND OR",
    "consent_level:3", "id:*", "programme:1", "x:y", "\\", "bus~", "'; DROP TABLE artefact; --", "!:&|<->",
]


def _short(text: str) -> str:
    return repr(text if len(text) <= 12 else f"{text[:12]}...({len(text)} chars)")


@pytest.mark.parametrize("text", BAD_QUERIES, ids=_short)
def test_bad_queries_give_a_message_or_results_never_more(env, twins, text):
    started = time.monotonic()
    try:
        result = find(env, text)
    except QueryError as exc:
        assert str(exc) and len(str(exc)) < 400
    else:
        assert str(twins.team_only.id) not in ids(result)
        assert result.total <= 1
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("filters", [
    {"colour": "red"}, {"consent_level": 3}, {"themes": ["no-such-theme"]}, {"kind": "sculpture"},
    {"date_from": "yesterday"}, {"date_from": "2025-05-02", "date_to": "2025-05-01"}, {"session": "abc"},
    {"area": ["<script>"]}, {"themes": ["transport"] * 51},
], ids=str)
def test_bad_filters_are_refused_with_a_message(env, twins, filters):
    with pytest.raises(QueryError) as raised:
        find(env, "bus", filters=filters)
    assert str(raised.value)


@pytest.mark.parametrize("options", [{"page": 0}, {"page": 10_000}, {"pagelen": 0}, {"pagelen": 1000}, {"sort": "x"}], ids=str)
def test_bad_paging_is_refused(env, options):
    with pytest.raises(QueryError):
        find(env, "bus", **options)


def test_removal_and_reindex(env, twins):
    assert env.backend.remove_artefact(env.db, twins.report.id)
    assert find(env, "bus").total == 0
    assert env.backend.reindex(env.db) == 2
    assert ids(find(env, "bus")) == {str(twins.report.id)}


@pytest.mark.parametrize("backend_name", ["postgres"])  # the word list belongs to the PostgreSQL backend
def test_postgres_words_of_a_removed_item_are_forgotten(env, backend_name):
    from archive.models import SearchWord

    item = add(env, story="Quixotically wobbly trampolines")
    add(env, story="Wobbly chairs")
    words = set(env.db.scalars(select(SearchWord.word)))
    assert {"quixot", "wobbl"} <= words
    env.backend.remove_artefact(env.db, item.id)
    words = set(env.db.scalars(select(SearchWord.word)))
    assert "quixot" not in words and "wobbl" in words
    assert env.db.scalar(select(SearchDocument).where(SearchDocument.artefact_id == item.id)) is None


@pytest.mark.parametrize("backend_name", ["postgres"])
def test_postgres_copy_of_the_consent_columns_follows_the_artefact(env, backend_name):
    from archive.models.search import FOLLOWED_COLUMNS

    item = add(env, story="The allotment gate is locked")
    other = env.make.programme("elsewhere")

    def copies_agree() -> bool:
        env.db.expire_all()
        live = env.db.execute(select(*(getattr(Artefact, c) for c in FOLLOWED_COLUMNS)).where(Artefact.id == item.id)).one()
        copy = env.db.execute(select(*(getattr(SearchDocument, c) for c in FOLLOWED_COLUMNS))
                              .where(SearchDocument.artefact_id == item.id)).one()
        return tuple(live) == tuple(copy)

    assert copies_agree()
    changes = {"programme_id": other.id, "status": ArtefactStatus.FAILED, "consent_level": ConsentLevel.EXHIBIT,
               "reviewed_at": None, "created_at": datetime(2024, 5, 1, tzinfo=timezone.utc)}
    assert set(changes) == set(FOLLOWED_COLUMNS)
    for column, value in changes.items():
        setattr(env.db.get(Artefact, item.id), column, value)
        env.db.commit()
        assert copies_agree(), column


@pytest.mark.parametrize("backend_name", ["postgres"])
def test_postgres_reindex_rewrites_only_what_changed(env, backend_name):
    kept = add(env, story="The swings are broken")
    edited = add(env, story="The slide is wet")
    stale = add(env, story="The bins are full")

    def versions() -> dict:
        rows = env.db.execute(text("SELECT artefact_id, xmin::text FROM search_document")).all()
        return {str(i): version for i, version in rows}

    before = versions()
    env.db.get(Artefact, edited.id).story = "The slide is wet and rusty"
    env.db.execute(text("UPDATE artefact SET status = 'withdrawn' WHERE id = :id"), {"id": stale.id})
    env.db.commit()
    assert env.backend.reindex(env.db) == 2
    after = versions()
    assert set(after) == {str(kept.id), str(edited.id)}
    assert after[str(kept.id)] == before[str(kept.id)]  # untouched: no dead copy left for VACUUM
    assert after[str(edited.id)] != before[str(edited.id)]
    assert ids(find(env, "rusty", who=env.team, context=Context.TEAM)) == {str(edited.id)}
