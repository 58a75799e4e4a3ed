"""The read-only search API: signed-in staff only, consent-filtered like the pages, rate-limited,
clear 400s for bad input, and a property-based run of its OpenAPI document that finds no 500s."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings as hypothesis_settings

from archive.models import (
    ArtefactKind,
    ConsentLevel,
    Polarity,
    Role,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
    TranscriptStatus,
)
from search.index import index_artefact
from tests.conftest import sign_in_staff


@pytest.fixture
def world(make, db, services):
    programme = make.programme("riverside")
    items = {}
    for level in (ConsentLevel.TEAM, ConsentLevel.REPORT):
        artefact = make.shared(level=level, programme=programme, kind=ArtefactKind.VOICE_NOTE, title="Bus voice note",
                               story=f"The {level.name.lower()} buses are late")
        artefact.tags.append(ThemeTag(framework="determinants", theme="transport", source=TagSource.MODEL,
                                      polarity=Polarity.BARRIER, status=TagStatus.ACCEPTED))
        artefact.transcript = Transcript(status=TranscriptStatus.APPROVED, segments=[
            TranscriptSegment(position=0, start=0.0, end=2.0, text="Hello"),
            TranscriptSegment(position=1, start=2.0, end=5.5, text="the night bus never stops here"),
        ])
        db.commit()
        index_artefact(services.settings.index_dir, artefact)
        items[level] = str(artefact.id)
    analyst = make.staff(programme, Role.ANALYST)
    elsewhere = make.staff(make.programme("hillside"), Role.ANALYST)
    return {"items": items, "analyst": analyst, "elsewhere": elsewhere, "programme": programme}


@pytest.fixture
def analyst_client(client, world):
    assert sign_in_staff(client, world["analyst"].email).status_code == 302
    return client


def test_signed_out_callers_get_401_json(client, world):
    response = client.get("/api/search?q=bus")
    assert response.status_code == 401 and "Sign in" in response.get_json()["error"]


def test_results_are_what_analysis_may_read(analyst_client, world):
    response = analyst_client.get("/api/search?q=bus")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1 and [h["id"] for h in body["hits"]] == [world["items"][ConsentLevel.REPORT]]
    assert body["facets"]["themes"] == {"transport": 1} and body["facets"]["kind"] == {"voice_note": 1}
    hit = body["hits"][0]
    assert hit["title"] == "Bus voice note" and hit["themes"] == ["transport"]
    assert "<mark>" in hit["snippet"]
    transcript_only = analyst_client.get("/api/search?q=transcript:night").get_json()["hits"][0]
    assert (transcript_only["segment_start"], transcript_only["segment_end"]) == (2.0, 5.5)


def test_staff_of_another_programme_see_nothing(client, world):
    sign_in_staff(client, world["elsewhere"].email)
    body = client.get("/api/search?q=bus").get_json()
    assert body["total"] == 0 and body["hits"] == [] and body["facets"]["themes"] == {}


def test_filters_and_the_facets_endpoint(analyst_client, world):
    assert analyst_client.get("/api/search?theme=transport&polarity=barrier").get_json()["total"] == 1
    assert analyst_client.get("/api/search?theme=transport&polarity=asset").get_json()["total"] == 0
    assert analyst_client.get("/api/search?kind=photo&kind=voice_note").get_json()["total"] == 1
    facets = analyst_client.get("/api/search/facets?q=bus").get_json()
    assert facets == {"total": 1, "facets": facets["facets"]} and facets["facets"]["polarity"] == {"barrier": 1}


@pytest.mark.parametrize("query", [
    "q=" + "x" * 10_000, "q=consent_level:3", "page=0", "page=abc", "per_page=1000", "sort=sideways",
    "colour=red", "theme=no-such-theme", "kind=sculpture", "date_from=yesterday", "q=bus*&q2=1", "q=b*",
    "q=bus~9", "session=-1", "area=%3Cscript%3E",
], ids=lambda q: q[:30])
def test_bad_input_is_a_400_with_a_message(analyst_client, world, query):
    response = analyst_client.get(f"/api/search?{query}")
    assert response.status_code == 400, response.text
    message = response.get_json()["error"]
    assert message and world["items"][ConsentLevel.TEAM] not in message


@pytest.mark.parametrize("query", ["q=", "q=*", 'q="unbalanced', "q=((bus", "page=400", "area=NOWHERE"])
def test_odd_but_usable_input_answers_200_without_leaks(analyst_client, world, query):
    response = analyst_client.get(f"/api/search?{query}")
    assert response.status_code in (200, 400)
    assert world["items"][ConsentLevel.TEAM] not in response.text
    if response.status_code == 200:
        assert response.get_json()["total"] <= 1


def test_a_page_past_the_end_is_empty_not_an_error(analyst_client, world):
    body = analyst_client.get("/api/search?q=bus&page=50").get_json()
    assert body["hits"] == [] and body["total"] == 1 and body["page"] == 50


def test_rate_limited_per_person(app, client, make, world):
    from archive.web.extensions import limiter
    from archive.web.search_api import RATE_LIMIT

    app.config["RATELIMIT_ENABLED"] = True
    limiter.reset()
    try:
        allowed = int(RATE_LIMIT.split()[0])
        sign_in_staff(client, world["analyst"].email)
        statuses = [client.get("/api/search/facets?q=bus").status_code for _ in range(allowed + 1)]
        assert statuses[:allowed] == [200] * allowed and statuses[-1] == 429
        assert "error" in client.get("/api/search?q=bus").get_json()
        other = app.test_client()
        sign_in_staff(other, world["elsewhere"].email)
        assert other.get("/api/search?q=bus").status_code == 200  # a colleague is not held up
    finally:
        limiter.reset()
        app.config["RATELIMIT_ENABLED"] = False


def test_openapi_document_is_served_and_names_every_parameter(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    names = {p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "theme", "polarity", "age_band", "area", "kind", "session", "date_from", "page", "sort"} <= names


# ---- schemathesis: generated requests against the document -------------------------------------------


@pytest.fixture
def api_schema(app, world):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def session_cookie(app, world, monkeypatch):
    from archive.web.extensions import limiter

    monkeypatch.setattr(limiter, "enabled", False)  # hundreds of generated requests; the limit has its own test
    # Session protection ("strong") ties the cookie to the caller's address and user agent:
    # sign in looking like schemathesis's in-process client, which sends no REMOTE_ADDR.
    client = app.test_client()
    client.environ_base.pop("REMOTE_ADDR", None)
    client.environ_base["HTTP_USER_AGENT"] = f"schemathesis/{schemathesis.__version__}"
    assert sign_in_staff(client, world["analyst"].email).status_code == 302
    return client.get_cookie("session").value


@schema.parametrize()
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_find_no_500s_and_conform(case, session_cookie, world):
    # A schema-valid string can still be a search that cannot run ("(" or a made-up theme):
    # those are documented 400s, so "positive data must be accepted" is not a rule here.
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    response = case.call(cookies={"session": session_cookie})
    assert response.status_code != 401, "the generated requests must run signed in"
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                             content_type_conformance, response_schema_conformance])
    assert world["items"][ConsentLevel.TEAM] not in response.text
    if response.status_code == 200 and case.method == "GET":
        assert set(json.loads(response.text)) >= {"total", "facets"}
