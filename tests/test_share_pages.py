"""The share pages without a browser: picks onto theme codes, limits, a photo with its voice note
(attached, transcribed, withdrawn together), and bad input of every kind stored neither twice nor half.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from archive.frameworks import load_framework
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    AuditEvent,
    ConsentLevel,
    Participant,
    TagSource,
    ThemeTag,
)
from archive.sharing import THEME_PICKS, limits_for, offered_picks, theme_codes, theme_codes_for_pick
from ingest.accept import MAX_BYTES, MAX_STORY, UploadRejected
from media.av import VIDEO_MAX_SECONDS, VOICE_NOTE_MAX_SECONDS
from tests.conftest import csrf_token, join_as_participant

JFK = Path(__file__).parent / "data" / "jfk.flac"


def _photo() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def _joined(client, make, db, band="16_19", alias="Share Fox") -> Participant:
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias=alias, band=band)
    participant = db.scalar(select(Participant).where(Participant.alias == alias))
    make.consent(participant, ConsentLevel.TEAM)
    return participant


def _form(client, page: str, **fields) -> dict:
    html = client.get(f"/share/{page}").text
    upload_id = re.search(r'name="upload_id" type="hidden" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_token(html), "upload_id": upload_id, **fields}


def _count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(Artefact.id)))


def _stored_keys(services) -> list[str]:
    return list(services.storage.iter_keys("artefacts/"))


# --- picks and limits ---------------------------------------------------------------------------------


def test_every_pick_means_something_in_the_determinants_framework():
    determinants = load_framework("determinants")
    assert offered_picks(determinants) == THEME_PICKS
    assert theme_codes_for_pick(determinants, "home") == ("living_conditions", "housing")
    assert theme_codes_for_pick(determinants, "getting_around") == ("transport",)
    # No determinant is drawn as a playground or a shield: both are about the neighbourhood.
    assert theme_codes_for_pick(determinants, "places_to_play") == ("place",)
    assert theme_codes(determinants, ["feelings", "food", "feeling_safe", "places_to_play"]) == (
        "place", "food", "mental_health")


def test_picks_follow_the_programmes_framework_and_refuse_anything_else():
    plan = load_framework("childrens_plan")
    assert theme_codes_for_pick(plan, "feeling_safe") == ("stay_safe",)
    assert "food" not in offered_picks(plan)  # nothing in that framework to map it onto
    with pytest.raises(UploadRejected) as refused:
        theme_codes(plan, ["food"])
    assert refused.value.field == "themes"
    with pytest.raises(UploadRejected):
        theme_codes(load_framework("determinants"), ["<script>"])


def test_limits_come_from_the_acceptor_and_the_request_cap():
    voice = limits_for(ArtefactKind.VOICE_NOTE, 10**12)
    assert (voice.max_bytes, voice.max_seconds) == (MAX_BYTES[ArtefactKind.VOICE_NOTE], VOICE_NOTE_MAX_SECONDS)
    video = limits_for(ArtefactKind.VIDEO_DIARY, 100 * 1024 * 1024)
    assert (video.max_mb, video.max_minutes) == (100, VIDEO_MAX_SECONDS // 60)
    assert limits_for(ArtefactKind.PHOTO, 10**12).max_seconds is None
    assert limits_for(ArtefactKind.TEXT_STORY, 10**12) is None


def test_each_page_says_its_limits_and_prompts_fit_the_age_band(client, make, db):
    _joined(client, make, db, band="5_11")
    video = client.get("/share/video-diary").text
    assert f"A video can be up to {VIDEO_MAX_SECONDS // 60} minutes long and up to 300 MB." in video
    assert 'data-max-seconds="300"' in video and 'accept="video/*"' in video
    photo = client.get("/share/photo").text
    assert "What can you see in your photo?" in photo and "What would make it better?" in photo
    assert 'capture="environment"' in photo and 'accept="image/*"' in photo
    assert 'class="chorus-icon"' in photo and "<span class=\"chorus-pick__text\">Places to play</span>" in photo
    for page in ("drawing", "voice-note", "story"):
        assert client.get(f"/share/{page}").status_code == 200


# --- a photo and the voice note telling its story -----------------------------------------------------


def test_a_photo_with_a_voice_note_is_two_linked_items_both_processed(client, make, db):
    participant = _joined(client, make, db)
    form = _form(client, "photo", title="Our stairs", themes=["home", "feeling_safe"], place="home")
    response = client.post("/share/photo", data=form | {
        "media": (_photo(), "stairs.jpg"), "voice_note": (JFK.open("rb"), "story.flac")})
    assert response.status_code == 302 and response.location.endswith("/my-things")

    db.expire_all()
    photo, note = db.scalars(select(Artefact).order_by(Artefact.kind)).all()
    assert (photo.kind, note.kind) == (ArtefactKind.PHOTO, ArtefactKind.VOICE_NOTE)
    assert note.attached_to_id == photo.id and photo.attached_to_id is None
    assert note.participant_id == participant.id and note.place == "home" and note.title == "Our stairs"
    assert note.status == ArtefactStatus.READY and "ask not" in note.transcript.text.lower()
    for item in (photo, note):
        picked = db.scalars(select(ThemeTag.theme).where(
            ThemeTag.artefact_id == item.id, ThemeTag.source == TagSource.PARTICIPANT)).all()
        assert sorted(picked) == ["housing", "living_conditions", "place"]

    again = client.post("/share/photo", data=form | {
        "media": (_photo(), "stairs.jpg"), "voice_note": (JFK.open("rb"), "story.flac")})
    assert again.status_code == 302 and _count(db) == 2


def test_a_refused_voice_note_leaves_no_photo_behind(client, make, db, services):
    _joined(client, make, db)
    form = _form(client, "photo", title="Half a story")
    response = client.post("/share/photo", data=form | {
        "media": (_photo(), "p.jpg"), "voice_note": (_photo(), "not-a-recording.m4a")})
    assert response.status_code == 415
    assert 'id="voice_note-error"' in response.text and "a voice recording" in response.text
    assert _count(db) == 0 and _stored_keys(services) == []
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.action == "artefact.discarded")) is not None

    # The same form, now with a real recording, is accepted whole.
    fixed = client.post("/share/photo", data=form | {
        "media": (_photo(), "p.jpg"), "voice_note": (JFK.open("rb"), "story.flac")})
    assert fixed.status_code == 302 and _count(db) == 2


def test_taking_back_the_photo_takes_its_voice_note_too(client, make, db, services):
    _joined(client, make, db)
    client.post("/share/photo", data=_form(client, "photo", title="Gone soon") | {
        "media": (_photo(), "p.jpg"), "voice_note": (JFK.open("rb"), "story.flac")})
    db.expire_all()
    photo = db.scalar(select(Artefact).where(Artefact.kind == ArtefactKind.PHOTO))
    page = client.get(f"/my-things/{photo.id}/withdraw").text
    response = client.post(f"/my-things/{photo.id}/withdraw", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 200

    db.expire_all()
    items = db.scalars(select(Artefact)).all()
    assert {a.status for a in items} == {ArtefactStatus.WITHDRAWN}
    assert all(a.erased_at is not None for a in items)  # the erasure job ran for the photo, and its note
    assert _stored_keys(services) == []
    assert "Gone soon" not in client.get("/my-things").text


# --- bad input ------------------------------------------------------------------------------------------


def test_a_form_sent_twice_is_one_item(client, make, db):
    _joined(client, make, db)
    form = _form(client, "story", title="Twice", story="Sent twice by a double tap.")
    first = client.post("/share/story", data=form)
    second = client.post("/share/story", data=form)
    assert first.status_code == second.status_code == 302
    assert _count(db) == 1
    assert client.get("/my-things").text.count("Thank you! We&#39;ve got it.") == 1


def test_the_wrong_kind_of_file_is_explained_and_nothing_is_stored(client, make, db, services):
    _joined(client, make, db)
    response = client.post("/share/voice-note", data=_form(client, "voice-note") | {
        "media": (_photo(), "recording.mp3")})
    assert response.status_code == 415
    assert "This doesn&#39;t look like a voice recording" in response.text
    assert 'href="#media"' in response.text  # the error summary leads to the file field
    assert _count(db) == 0 and _stored_keys(services) == []


def test_a_very_long_story_is_refused_kindly_and_kept_for_editing(client, make, db):
    _joined(client, make, db)
    story = "a" * (MAX_STORY + 1)
    response = client.post("/share/story", data=_form(client, "story", story=story))
    assert response.status_code == 413
    assert "The story is too long: please keep it under 20,000 characters." in response.text
    assert 'href="#story"' in response.text and story in response.text
    assert _count(db) == 0


def test_emoji_right_to_left_and_markup_are_stored_as_written_and_shown_as_text(client, make, db):
    _joined(client, make, db)
    story = "שלום 👋🏽 مرحبا <script>alert(1)</script> {{ 7*7 }} {% raw %}"
    # A title too long sends the page back, showing the story as the participant typed it.
    refused = client.post("/share/story", data=_form(client, "story", title="x" * 201, story=story))
    assert refused.status_code == 400
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} {% raw %}" in refused.text
    assert "<script>alert(1)" not in refused.text and "49" not in refused.text
    accepted = client.post("/share/story", data=_form(client, "story", title="مرحبا 👋🏽", story=story))
    assert accepted.status_code == 302
    db.expire_all()
    item = db.scalar(select(Artefact))
    assert (item.title, item.story) == ("مرحبا 👋🏽", story)


def test_tampered_picks_get_a_message_on_their_field(client, make, db):
    _joined(client, make, db)
    bad_theme = client.post("/share/story", data=_form(client, "story", story="Hi", themes=["spaceships"]))
    assert bad_theme.status_code == 400 and 'href="#themes"' in bad_theme.text
    assert "Please choose the themes from the pictures shown." in bad_theme.text
    bad_place = client.post("/share/story", data=_form(client, "story", story="Hi", place="moon"))
    assert bad_place.status_code == 400 and 'href="#place"' in bad_place.text
    assert _count(db) == 0


def test_an_upload_cut_off_halfway_stores_nothing(client, make, db, services):
    _joined(client, make, db)
    fields = _form(client, "photo", title="Cut off")
    boundary = "cutoffboundary"
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
    body = body.encode() + (f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="p.jpg"\r\n'
                            "Content-Type: image/jpeg\r\n\r\n").encode() + _photo().read()[:5000]
    response = client.post("/share/photo", input_stream=io.BytesIO(body), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body) + 50_000)})
    assert response.status_code == 400
    assert _count(db) == 0 and _stored_keys(services) == []


def test_the_script_gets_json_answers(client, make, db):
    _joined(client, make, db)
    headers = {"Accept": "application/json"}
    refused = client.post("/share/story", data=_form(client, "story"), headers=headers)
    assert refused.status_code == 400
    assert refused.json == {"errors": [{"id": "story", "text": "Please write your story before sending it."}]}
    done = client.post("/share/story", data=_form(client, "story", story="Hello"), headers=headers)
    assert done.status_code == 200 and done.json == {"next": "/my-things"}
    assert _count(db) == 1


def test_a_childs_share_page_has_their_prompts(client, make, db):
    _joined(client, make, db, band=AgeBand.FAMILY_0_5.value, alias="Parent Owl")
    page = client.get("/share/photo").text
    assert "What is really happening here for you and your child?" in page


# --- every word translatable ------------------------------------------------------------------------

from tests.pseudo_locale import get, pseudo_settings, untranslated_words  # noqa: E402


@pytest.fixture
def settings(tmp_path, pseudo_catalogs):
    return pseudo_settings(tmp_path, pseudo_catalogs)


@pytest.mark.parametrize("page", ["", "photo", "drawing", "voice-note", "video-diary", "story"])
def test_share_pages_are_fully_translatable(client, make, db, page):
    _joined(client, make, db, alias="Blue Fox")
    assert untranslated_words(get(client, f"/share/{page}")) == set()


def test_share_page_errors_are_fully_translatable(client, make, db):
    _joined(client, make, db, alias="Blue Fox")
    html = client.post("/share/photo", data=_form(client, "photo", title="x" * 201),
                       headers={"Accept-Language": "cy"}).get_data(as_text=True)
    assert "govuk-error-summary" in html
    assert untranslated_words(html) == set()
