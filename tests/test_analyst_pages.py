"""Analysts' search and item pages: only what the analysis context allows, never a 500.

Most tests compare two items that differ only in consent (level, voice, face, credit) and check
what each page shows of them, by status code and by the markup that would carry the thing.
"""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from werkzeug.datastructures import MultiDict

from archive.models import (
    ArtefactKind,
    ConsentLevel,
    Derivative,
    Polarity,
    Role,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
)
from archive.web.analyst import (
    FormProblem,
    filter_options,
    page_numbers,
    parse_moment,
    read_search_form,
    safe_snippet,
    segment_at,
)
from archive.curation.redaction import shown_evidence
from search.index import index_artefact
from tests.conftest import sign_in_staff
from tests.pseudo_locale import LOCALE, pseudo_settings, untranslated_words

LINES = [(0.0, 3.2, "We walk to school because the bus never comes."), (3.2, 7.9, "My mum can't afford the fare."),
         (7.9, 11.0, "The park is where we feel safe.")]


# ---- records ------------------------------------------------------------------------------------


def _derivative(make, artefact, kind, media_type, content=b"x", width=None, height=None):
    stored = make.storage.put(f"{artefact.storage_prefix}derivatives/{kind}", io.BytesIO(content))
    make.db.add(Derivative(artefact_id=artefact.id, kind=kind, object_key=stored.key, sha256=stored.sha256,
                           size_bytes=stored.size, media_type=media_type, width=width, height=height))
    make.db.commit()


def _recording(make, programme, *, voice=True, face=True, credit=False, level=ConsentLevel.REPORT,
               kind=ArtefactKind.VOICE_NOTE, title="Getting to school", lines=LINES):
    participant = make.participant(make.session(programme), alias="Kestrel")
    make.consent(participant, level, voice=voice, face=face, credit=credit)
    artefact = make.artefact(participant, kind=kind, title=title, story="")
    _derivative(make, artefact, "proxy", "video/mp4" if kind == ArtefactKind.VIDEO_DIARY else "audio/mp4",
                width=320 if kind == ArtefactKind.VIDEO_DIARY else None,
                height=240 if kind == ArtefactKind.VIDEO_DIARY else None)
    if kind == ArtefactKind.VIDEO_DIARY:
        _derivative(make, artefact, "poster", "image/jpeg")
    transcript = Transcript(artefact_id=artefact.id, language="en", duration=11.0, model_name="base")
    for position, (start, end, text) in enumerate(lines):
        transcript.segments.append(TranscriptSegment(position=position, start=start, end=end, text=text))
    make.db.add(transcript)
    make.db.commit()
    make.db.refresh(artefact)
    return artefact


def _photo(make, programme, *, face, kind=ArtefactKind.PHOTO):
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT, face=face)
    artefact = make.artefact(participant, kind=kind, title="Our street", story="Cars park on the pavement")
    _derivative(make, artefact, "web_image", "image/jpeg", width=800, height=600)
    _derivative(make, artefact, "thumbnail", "image/jpeg", width=200, height=150)
    make.db.refresh(artefact)
    return artefact


@pytest.fixture
def programme(make):
    return make.programme("riverside")


@pytest.fixture
def analyst(client, make, programme):
    user = make.staff(programme, Role.ANALYST)
    assert sign_in_staff(client, user.email).status_code == 302
    return user


def _item(client, artefact, **args):
    return client.get(f"/analysis/items/{artefact.id}", query_string=args)


# ---- the item page ------------------------------------------------------------------------------


def test_an_item_beyond_analysis_consent_is_not_found_like_a_missing_one(client, make, programme, analyst):
    shared = make.shared(programme=programme, story="The bus is always late")
    team_only = make.shared(level=ConsentLevel.TEAM, programme=programme, story="The bus is always late")
    unreviewed = make.shared(programme=programme, reviewed=False, story="The bus is always late")
    assert _item(client, shared).status_code == 200
    for hidden in (team_only, unreviewed):
        response = _item(client, hidden)
        assert response.status_code == 404
        assert "always late" not in response.text
    assert client.get("/analysis/items/not-an-id").status_code == 404
    assert client.get("/analysis/items/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_facilitator_reads_in_the_analysis_context_and_other_programmes_see_nothing(client, make, programme):
    team_only = make.shared(level=ConsentLevel.TEAM, programme=programme, story="Only the team")
    shared = make.shared(programme=programme, story="For reports")
    facilitator = make.staff(programme, Role.FACILITATOR)
    sign_in_staff(client, facilitator.email)
    assert _item(client, shared).status_code == 200
    assert _item(client, team_only).status_code == 404  # the team page is staff.artefact, not this one
    client.post("/staff/sign-out")
    stranger = make.staff(make.programme("elsewhere"), Role.ANALYST)
    sign_in_staff(client, stranger.email)
    assert _item(client, shared).status_code == 404


def test_voice_consent_decides_whether_the_recording_plays(client, make, programme, analyst):
    heard = _recording(make, programme, voice=True)
    unheard = _recording(make, programme, voice=False)

    page = _item(client, heard).text
    assert f'src="/media/{heard.id}/proxy"' in page
    assert 'data-chorus-player' in page
    track = re.search(r'<track kind="captions" src="([^"]+)"[^>]*default', page)
    assert track and track.group(1) == f"/analysis/items/{heard.id}/captions.vtt"

    page = _item(client, unheard).text
    assert "/proxy" not in page and "<track" not in page and "data-chorus-player" not in page
    assert "did not agree to their voice" in page
    assert "My mum can&#39;t afford the fare." in page  # the words are still there to read
    assert client.get(f"/analysis/items/{unheard.id}/captions.vtt").status_code == 404
    assert client.get(f"/media/{unheard.id}/proxy").status_code == 404


def test_a_video_needs_face_and_voice_consent(client, make, programme, analyst):
    both = _recording(make, programme, kind=ArtefactKind.VIDEO_DIARY, voice=True, face=True)
    no_face = _recording(make, programme, kind=ArtefactKind.VIDEO_DIARY, voice=True, face=False)
    page = _item(client, both).text
    assert f'src="/media/{both.id}/proxy"' in page and f'poster="/media/{both.id}/poster"' in page
    page = _item(client, no_face).text
    assert "/proxy" not in page and "/poster" not in page
    assert client.get(f"/media/{no_face.id}/proxy").status_code == 404
    assert "face being seen" in page


def test_without_face_consent_a_photo_is_shown_only_as_its_blurred_copy(client, make, programme, analyst):
    seen = _photo(make, programme, face=True)
    unseen = _photo(make, programme, face=False)
    drawing = _photo(make, programme, face=False, kind=ArtefactKind.DRAWING)
    assert f'src="/media/{seen.id}/web_image"' in _item(client, seen).text
    page = _item(client, unseen).text
    assert "/web_image" not in page and "still being made" in page  # no blurred copy yet: nothing, never the original
    assert "Cars park on the pavement" in page
    assert f'src="/media/{drawing.id}/web_image"' in _item(client, drawing).text
    _derivative(make, unseen, "faceless_web_image", "image/jpeg", b"blurred", width=800, height=600)
    assert f'src="/media/{unseen.id}/web_image"' in _item(client, unseen).text
    assert client.get(f"/media/{unseen.id}/web_image").data == b"blurred"


def test_a_link_to_a_moment_opens_the_player_there_with_the_line_marked(client, make, programme, analyst):
    artefact = _recording(make, programme)
    page = _item(client, artefact, t="4.5").text
    assert f'src="/media/{artefact.id}/proxy#t=3.20"' in page
    assert 'data-start="3.20"' in page
    current = re.findall(r'<li class="chorus-transcript__line chorus-transcript__line--current"[^>]*>', page)
    assert len(current) == 1 and 'id="line-1"' in current[0] and 'aria-current="true"' in current[0]
    # Every line links to its own moment, so the page works as plain links without JavaScript.
    assert f'href="/analysis/items/{artefact.id}?t=7.90#line-2"' in page
    plain = _item(client, artefact, t="nonsense").text
    assert "chorus-transcript__line--current" not in plain and "#t=" not in plain


def test_captions_are_made_from_the_stored_lines_as_corrected(client, make, programme, analyst, db):
    artefact = _recording(make, programme, lines=[(0.0, 2.5, "I said <b>this</b> & that"), (2.5, 2.5, "")])
    segment = artefact.transcript.segments[1]
    segment.text = "A corrected line"
    db.commit()
    response = client.get(f"/analysis/items/{artefact.id}/captions.vtt")
    assert response.status_code == 200 and response.mimetype == "text/vtt"
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.text
    assert body.startswith("WEBVTT")
    assert "00:00:00.000 --> 00:00:02.500" in body
    assert "I said &lt;b&gt;this&lt;/b&gt; &amp; that" in body and "<b>" not in body
    assert "A corrected line" in body


def test_themes_show_their_evidence_polarity_source_and_confidence(client, make, programme, analyst, db):
    artefact = make.shared(programme=programme, story="The bus costs too much <script>alert(1)</script>")
    db.add(ThemeTag(artefact_id=artefact.id, framework="determinants", theme="transport", source=TagSource.MODEL,
                    confidence=0.82, evidence="The bus costs too much <script>", polarity=Polarity.BARRIER,
                    status=TagStatus.SUGGESTED))
    db.add(ThemeTag(artefact_id=artefact.id, framework="determinants", theme="income", source=TagSource.PARTICIPANT,
                    polarity=Polarity.ASSET, status=TagStatus.ACCEPTED))
    db.commit()
    page = _item(client, artefact).text
    tags = page[page.index('<table class="govuk-table chorus-tags">'):page.index("</table>")]
    assert "Barrier" in tags and "82%" in tags and "Theme model" in tags and "suggested" in tags
    assert "<q>The bus costs too much &lt;script&gt;</q>" in tags
    assert "The participant" in tags and "Asset" in tags
    assert "<script>alert" not in page


def test_the_alias_is_shown_only_with_credit_consent(client, make, programme, analyst):
    credited = _recording(make, programme, credit=True)
    anonymous = _recording(make, programme, credit=False)
    assert "shared by Kestrel" in _item(client, credited).text
    page = _item(client, anonymous).text
    assert "Kestrel" not in page and "not to be named" in page


def test_item_page_links_search_and_loads_its_script(client, make, programme, analyst):
    page = _item(client, _recording(make, programme)).text
    assert 'src="/static/analyst.js"' in page and "<script>" not in page
    assert 'href="/analysis/search"' in page


# ---- the search page ----------------------------------------------------------------------------


def _indexed(services, artefact):
    index_artefact(services.settings.index_dir, artefact)
    return artefact


def _search(client, **args):
    return client.get("/analysis/search", query_string=args)


def _result_ids(page: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/analysis/items/([0-9a-f-]{36})', page)


def test_search_shows_only_items_analysis_may_read_in_hits_totals_and_counts(client, make, programme, analyst,
                                                                               services):
    shared = _indexed(services, make.shared(programme=programme, kind=ArtefactKind.TEXT_STORY,
                                            story="The skate park is closed at night"))
    _indexed(services, make.shared(level=ConsentLevel.TEAM, programme=programme, kind=ArtefactKind.PHOTO,
                                   story="The skate park is closed at night"))
    response = _search(client, q="skate")
    assert response.status_code == 200
    assert _result_ids(response.text) == [str(shared.id)]
    assert "1 item" in response.text
    kinds = re.search(r'value="text_story"[^>]*>\s*<label[^>]*>\s*Written story \((\d+)\)', response.text)
    assert kinds and kinds.group(1) == "1"
    assert "Photo (" not in response.text or "Photo (0)" in response.text
    assert "<mark>skate</mark>" in response.text


def test_snippets_keep_only_their_marks_as_markup_and_cover_hidden_words():
    assert safe_snippet("a <mark>bus</mark> &lt;b&gt;") == "a <mark>bus</mark> &lt;b&gt;"
    assert safe_snippet('<img src=x onerror="1"><mark>x</mark>') == '&lt;img src=x onerror="1"&gt;<mark>x</mark>'
    assert safe_snippet("") == ""
    hidden = [("Jo Bloggs", "name")]
    marked = safe_snippet("<mark>Jo</mark> <mark>Bloggs</mark> said", hidden)
    assert marked == "<mark>[name]</mark> <mark>[name]</mark> said"
    assert shown_evidence("…and bloggs said", hidden) == "…and [name] said"
    assert shown_evidence("Joanna is fine", hidden) == "Joanna is fine"  # whole words only


def test_a_transcript_hit_links_to_its_moment(client, make, programme, analyst, services):
    artefact = _indexed(services, _recording(make, programme))
    page = _search(client, q="afford").text
    link = re.search(rf'href="(/analysis/items/{artefact.id}[^"]*)"', page)
    assert link, page
    assert unescape(link.group(1)).endswith("?t=3.20")


def test_thumbnails_follow_face_consent(client, make, programme, analyst, services):
    seen = _indexed(services, _photo(make, programme, face=True))
    unseen = _indexed(services, _photo(make, programme, face=False))
    page = _search(client, q="pavement").text
    assert set(_result_ids(page)) == {str(seen.id), str(unseen.id)}
    assert f"/media/{seen.id}/thumbnail" in page
    assert f"/media/{unseen.id}/thumbnail" not in page
    _derivative(make, unseen, "faceless_thumbnail", "image/jpeg", b"blurred")
    assert f"/media/{unseen.id}/thumbnail" in _search(client, q="pavement").text


def test_hidden_words_stay_hidden_in_every_place_the_pages_show_words(client, make, programme, analyst, services, db):
    from archive.curation.redaction import hide_phrase
    from archive.principal import SYSTEM

    artefact = _recording(make, programme, title="Kestrel Smith's walk",
                          lines=[(0.0, 3.0, "I'm Kestrel Smith and I walk to school"), (3.0, 6.0, "The bus is late")])
    artefact.story = "Kestrel Smith again"
    db.add(ThemeTag(artefact_id=artefact.id, framework="determinants", theme="transport", source=TagSource.MODEL,
                    confidence=0.7, evidence="Smith and I walk to school", polarity=Polarity.BARRIER))
    db.commit()
    _indexed(services, artefact)
    hide_phrase(db, SYSTEM, artefact, "Kestrel Smith")
    db.commit()

    page = _item(client, artefact).text
    assert "Smith" not in page and "[name]" in page
    assert "<q>[name] and I walk to school</q>" in page
    captions = client.get(f"/analysis/items/{artefact.id}/captions.vtt").text
    assert "Smith" not in captions and "[name]" in captions
    results = _search(client, q="walk").text
    assert _result_ids(results) == [str(artefact.id)]
    assert "Smith" not in results and "Kestrel" not in results


@pytest.mark.parametrize("query", ['"unbalanced', "consent_level:3", "x" * 10_000, "(((", "theme:"])
def test_a_bad_query_gets_a_clear_message_not_a_500(client, make, programme, analyst, services, query):
    _indexed(services, make.shared(programme=programme, story="Words"))
    response = _search(client, q=query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "govuk-error-summary" in response.text and 'href="#q"' in response.text


@pytest.mark.parametrize("args, field_id", [
    ({"date_from": "2025-13-40"}, "date_from"),
    ({"date_from": "2025-05-02", "date_to": "2025-05-01"}, "date_from"),
    ({"page": "two"}, "q"),
    ({"sort": "sideways"}, "sort"),
    ({"themes": [f"t{n}" for n in range(60)]}, "filter-themes"),
])
def test_bad_form_values_are_named_in_the_error_summary(client, analyst, args, field_id):
    response = _search(client, **args)
    assert response.status_code == 400
    assert f'href="#{field_id}"' in response.text
    assert "Error:" in response.text  # the page title says so, as GOV.UK pages do


def test_unknown_filter_values_and_pages_past_the_end_are_explained(client, make, programme, analyst, services):
    for n in range(3):
        _indexed(services, make.shared(programme=programme, story=f"The library shut {n}"))
    response = _search(client, q="library", themes="no_such_theme")
    assert response.status_code == 400
    assert "no_such_theme" in response.text and "govuk-error-summary" in response.text
    assert _result_ids(response.text) == []
    response = _search(client, q="library", page="9")
    assert response.status_code in (200, 400)
    assert "There is no page 9" in response.text or "govuk-error-summary" in response.text


def test_paging_and_sorting(client, make, programme, analyst, services):
    ids = [str(_indexed(services, make.shared(programme=programme, story=f"Football pitch {n}")).id) for n in range(23)]
    first = _search(client, q="football", sort="newest").text
    second = _search(client, q="football", sort="newest", page="2").text
    assert "23 items" in first
    assert len(_result_ids(first)) == 20 and len(_result_ids(second)) == 3
    assert set(_result_ids(first)) | set(_result_ids(second)) == set(ids)
    assert 'href="/analysis/search?q=football&amp;sort=newest&amp;page=2"' in first
    oldest = _search(client, q="football", sort="oldest").text
    assert _result_ids(oldest)[0] == _result_ids(second)[-1]


def test_empty_states(client, make, programme, analyst, services):
    page = _search(client).text
    assert "There are no items you may read yet" in page
    _indexed(services, make.shared(programme=programme, story="Swimming lessons"))
    page = _search(client, q="zebra").text
    assert "Nothing found" in page and "remove some filters" in page


def test_search_needs_a_staff_sign_in(client):
    response = _search(client, q="bus")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


# ---- plain functions ------------------------------------------------------------------------------


def test_reading_the_form():
    args = MultiDict([("q", "  bus fare "), ("themes", "transport"), ("themes", "transport"), ("themes", " "),
                      ("kind", "photo"), ("date_to", "2025-06-01"), ("page", "3"), ("sort", "oldest")])
    form = read_search_form(args, args.getlist)
    assert form.query == "bus fare" and form.page == 3 and form.sort == "oldest"
    assert form.filters == {"themes": ["transport"], "kind": ["photo"]}
    assert form.service_filters()["date_to"].isoformat() == "2025-06-01"
    assert form.args(page=1) == {"q": "bus fare", "themes": ["transport"], "kind": ["photo"], "sort": "oldest",
                                 "date_to": "2025-06-01"}
    with pytest.raises(FormProblem):
        read_search_form({"page": "0"}, lambda name: [])


def test_page_numbers_show_the_ends_and_the_neighbourhood():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 4) == [1, 2, 3, 4]
    assert page_numbers(10, 40) == [1, None, 8, 9, 10, 11, 12, None, 40]


def test_moments_and_lines():
    class S:
        def __init__(self, start, end):
            self.start, self.end = start, end

    lines = [S(0, 3.2), S(3.2, 7.9), S(9.0, 11)]
    assert segment_at(lines, 3.2) is lines[1]
    assert segment_at(lines, 8.5) is lines[2]  # a gap: the next line
    assert segment_at(lines, 20) is None and segment_at(lines, None) is None
    assert parse_moment("12.5") == 12.5
    assert parse_moment("-1") is None and parse_moment("nan") is None and parse_moment("inf") is None


def test_filter_options_keep_chosen_values_and_counts_only_from_the_search():
    items = filter_options("themes", {"themes": {"transport": 4, "housing": 1}}, ["play"],
                           {"transport": "Transport", "housing": "Housing", "play": "Play", "food": "Food"})
    assert [(i["value"], i["count"], i["checked"]) for i in items] == [
        ("transport", 4, False), ("housing", 1, False), ("food", 0, False), ("play", 0, True)]
    items = filter_options("session", {}, [], {"1": "Session one"})
    assert items == [{"value": "1", "label": "Session one", "count": None, "checked": False}]


def test_staff_reach_search_from_the_menu_and_the_dashboard(client, analyst):
    dashboard = client.get("/staff/").text
    assert dashboard.count('href="/analysis/search"') == 2  # the service menu and the page itself
    menu = _search(client).text
    assert re.search(r'govuk-service-navigation__item--active[^>]*>\s*<a[^>]*href="/analysis/search"', menu)


def test_filters_narrow_the_results(client, make, programme, analyst, services):
    from datetime import date, timedelta

    story = _indexed(services, make.shared(programme=programme, kind=ArtefactKind.TEXT_STORY, story="Chips for tea"))
    photo = _indexed(services, _photo(make, programme, face=True))
    assert set(_result_ids(_search(client).text)) == {str(story.id), str(photo.id)}
    assert _result_ids(_search(client, kind="photo").text) == [str(photo.id)]
    checked = _search(client, kind="photo").text
    assert re.search(r'name="kind" type="checkbox" value="photo" checked', checked)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert _result_ids(_search(client, date_from=tomorrow).text) == []
    assert set(_result_ids(_search(client, date_to=tomorrow).text)) == {str(story.id), str(photo.id)}


class TestTranslatable:
    """Rendered in a pseudo-language, the pages leave no English of their own untranslated."""

    @pytest.fixture
    def settings(self, tmp_path, pseudo_catalogs):
        return pseudo_settings(tmp_path, pseudo_catalogs)

    def test_search_and_item_pages(self, client, make, programme, analyst, services, db):
        from archive.models import AgeBand

        artefact = _indexed(services, _recording(make, programme))
        db.add(ThemeTag(artefact_id=artefact.id, framework="determinants", theme="transport", source=TagSource.MODEL,
                        confidence=0.7, evidence="the bus never comes", polarity=Polarity.BARRIER))
        db.commit()
        # What people wrote and said, names staff chose, and labels that come from data files.
        content = " ".join([text for _, _, text in LINES] + [artefact.title, artefact.session.name, "RV01",
                           artefact.created_at.strftime("%B")] + [b.label for b in AgeBand])
        content_words = set(re.findall(r"[A-Za-z][A-Za-z']+", content))
        from archive.programmes import programme_framework

        for theme in programme_framework(programme):
            content_words |= set(re.findall(r"[A-Za-z][A-Za-z']+", theme.label))
        pages = {
            "search": "/analysis/search?q=afford&sort=newest",
            # A form error of this page's own: the search's messages live in search/, which babel.cfg
            # does not extract yet (see docs/analyst-pages.md).
            "search error": "/analysis/search?date_from=2025-13-40",
            "item": f"/analysis/items/{artefact.id}?t=4",
        }
        for name, path in pages.items():
            html = client.get(path, headers={"Accept-Language": LOCALE}).get_data(as_text=True)
            assert untranslated_words(html) - content_words == set(), name
