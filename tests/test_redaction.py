"""Redaction: hidden words read as [name] beyond the team, faces and boxes blurred, sounds bleeped.

Real pictures (scikit-image's astronaut portrait, whose face the detector finds) and real speech
(jfk.flac) go through the real Pillow and ffmpeg code; the media route is asked for each copy as
an analyst and as the team.
"""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from archive.consent import Context
from archive.curation.guards import CurationError
from archive.curation.redaction import (
    Span,
    blur_box,
    bleep_sound,
    hide_flagged_detail,
    hide_words,
    redacted_text,
    shareable_text,
)
from archive.curation.transcripts import SegmentEdit, save_edits
from archive.models import (
    ArtefactKind,
    ConsentLevel,
    Derivative,
    PersonalDetailFlag,
    Role,
    Transcript,
    TranscriptSegment,
)
from archive.principal import staff_principal
from ingest.redaction import build_redacted_media
from media import av, faces
from media.redact import Box, blur_picture
from tests.conftest import sign_in_staff, store_derivative

SPEECH = Path(__file__).parent / "data" / "jfk.flac"
FACE = (170, 40, 290, 200)  # where the astronaut's face is, x1 y1 x2 y2 (tests/test_faces.py)


def region_change(a: Path, b: Path, box: tuple[int, int, int, int]) -> float:
    """Mean absolute difference of two same-sized pictures inside `box` (0-255)."""
    left = np.asarray(Image.open(a).convert("L").crop(box), dtype=float)
    right = np.asarray(Image.open(b).convert("L").crop(box), dtype=float)
    return float(np.abs(left - right).mean())


def detail(path: Path, box: tuple[int, int, int, int]) -> float:
    """How much fine detail a region holds: the mean size of neighbouring pixels' differences."""
    pixels = np.asarray(Image.open(path).convert("L").crop(box), dtype=float)
    return float(np.abs(np.diff(pixels, axis=1)).mean() + np.abs(np.diff(pixels, axis=0)).mean())


# ---- words ---------------------------------------------------------------------------------------


def test_hidden_spans_read_as_their_labels_and_overlaps_merge():
    text = "I go to Oakfield Primary with Jamie on Mill Lane"
    spans = [Span(8, 24, "school"), Span(30, 35, "name"), Span(33, 35, "name"), Span(39, 48, "street")]
    assert redacted_text(text, spans) == "I go to [school] with [name] on [street]"
    assert redacted_text(text, []) == text


@pytest.fixture
def team(make):
    programme = make.programme()
    return programme, staff_principal(make.staff(programme, Role.FACILITATOR))


def voice_note(make, db, programme, lines, **consent):
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT, **consent)
    artefact = make.artefact(participant, kind=ArtefactKind.VOICE_NOTE, story="Jamie and me at the park")
    transcript = Transcript(artefact_id=artefact.id, duration=11.0, language="en")
    for position, text in enumerate(lines):
        transcript.segments.append(TranscriptSegment(position=position, start=position * 4.0,
                                                     end=position * 4.0 + 3.5, text=text))
    db.add(transcript)
    db.commit()
    return artefact


def test_words_hidden_in_story_and_transcript_stay_hidden_after_a_correction(db, make, team):
    programme, facilitator = team
    note = voice_note(make, db, programme, ["me and jamie go to oakfield", "it is fun"])
    first = note.transcript.segments[0]
    hide_words(db, facilitator, note, "story", 0, 5, "name")
    hide_words(db, facilitator, note, "transcript", 7, 12, "name", segment_id=first.id)
    db.commit()
    shared = shareable_text(db, note)
    assert shared.story == "[name] and me at the park"
    assert shared.transcript == "me and [name] go to oakfield it is fun"
    assert note.story.startswith("Jamie")  # the team keeps the original

    save_edits(db, facilitator, note, 1, [SegmentEdit(first.id, "me and jamie go to Oakfield with jamie")])
    db.commit()
    assert shareable_text(db, note).segments[0].text == "me and [name] go to Oakfield with [name]"


def test_a_flagged_detail_becomes_a_redaction(db, make, team):
    programme, facilitator = team
    note = voice_note(make, db, programme, ["call me on 07700 900123 ok"])
    segment = note.transcript.segments[0]
    flag = PersonalDetailFlag(artefact_id=note.id, source="transcript", segment_id=segment.id, kind="phone",
                              start=11, end=23)
    db.add(flag)
    db.commit()
    hide_flagged_detail(db, facilitator, note, flag.id)
    db.commit()
    assert shareable_text(db, note).transcript == "call me on [phone] ok"
    assert flag.status == "redacted"


@pytest.mark.parametrize("call, message", [
    (lambda db, f, a: hide_words(db, f, a, "story", 10, 99), "not inside the text"),
    (lambda db, f, a: hide_words(db, f, a, "postcode", 0, 1), "title, the story"),
    (lambda db, f, a: bleep_sound(db, f, a, 5.0, 60.0), "only 11.0 seconds"),
    (lambda db, f, a: bleep_sound(db, f, a, 4.0, 2.0), "start time before the end"),
    (lambda db, f, a: blur_box(db, f, a, 0.1, 0.1, 0.2, 0.2), "Only photos, drawings and videos"),
])
def test_bad_redactions_get_a_clear_message(db, make, team, call, message):
    programme, facilitator = team
    note = voice_note(make, db, programme, ["hello"])
    with pytest.raises(CurationError, match=message):
        call(db, facilitator, note)


@pytest.mark.parametrize("box", [(0.9, 0.1, 0.2, 0.2), (-0.1, 0.0, 0.3, 0.3), (0.2, 0.2, 0.001, 0.3),
                                 (float("nan"), 0.1, 0.2, 0.2)])
def test_a_box_outside_the_picture_is_refused(db, make, team, box):
    programme, facilitator = team
    participant = make.participant(make.session(programme))
    photo = make.artefact(participant, kind=ArtefactKind.PHOTO)
    with pytest.raises(CurationError):
        blur_box(db, facilitator, photo, *box)


# ---- pictures ------------------------------------------------------------------------------------


def test_a_blurred_box_loses_its_detail_and_the_rest_is_untouched(tmp_path, portrait):
    out = tmp_path / "blurred.jpg"
    width, height = Image.open(portrait).size
    x1, y1, x2, y2 = FACE
    size = blur_picture(portrait, out, [Box(x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)])
    assert size == (width, height)
    assert detail(out, FACE) < detail(portrait, FACE) / 4
    assert region_change(portrait, out, (350, 300, 500, 500)) < 3  # far from the box: only JPEG noise


def photo_with_face(make, db, services, programme, portrait, **consent):
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT, **consent)
    photo = make.artefact(participant, kind=ArtefactKind.PHOTO)
    store_derivative(services, db, photo, "web_image", portrait, "image/jpeg")
    return photo


def fetched(client, artefact, kind) -> bytes | None:
    response = client.get(f"/media/{artefact.id}/{kind}")
    return response.data if response.status_code == 200 else None


def sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def test_readers_beyond_the_team_get_the_face_blurred_unless_the_face_may_be_shown(
        client, db, make, services, team, portrait, tmp_path):
    programme, facilitator = team
    hidden = photo_with_face(make, db, services, programme, portrait)
    shown = photo_with_face(make, db, services, programme, portrait, face=True)
    analyst = make.staff(programme, Role.ANALYST, email="ana@example.org")
    sign_in_staff(client, analyst.email)

    assert fetched(client, hidden, "web_image") is None  # no blurred copy yet: nothing, not the original
    assert sorted(build_redacted_media(services, hidden.id)) == ["faceless_thumbnail", "faceless_web_image"]
    build_redacted_media(services, shown.id)

    served = tmp_path / "served.jpg"
    served.write_bytes(fetched(client, hidden, "web_image"))
    (face,) = faces.detect_faces(portrait)
    found = (face.x, face.y, face.x + face.w, face.y + face.h)
    assert detail(served, found) < detail(portrait, found) / 4  # the face the detector found is obscured
    assert faces.detect_faces(served) == []
    assert sha(fetched(client, shown, "web_image")) == sha(portrait.read_bytes())
    thumb = fetched(client, hidden, "thumbnail")
    assert thumb is not None and max(Image.open(__import__("io").BytesIO(thumb)).size) == 320


def test_a_drawn_box_is_blurred_for_readers_beyond_the_team_and_removing_it_drops_the_copy(
        client, db, make, services, team, portrait, tmp_path):
    from archive.curation.redaction import remove

    programme, facilitator = team
    photo = photo_with_face(make, db, services, programme, portrait, face=True)
    box = blur_box(db, facilitator, photo, 0.7, 0.7, 0.25, 0.25)  # a house number, say
    db.commit()
    assert "redacted_web_image" in build_redacted_media(services, photo.id)
    sign_in_staff(client, make.staff(programme, Role.ANALYST, email="ana@example.org").email)
    served = tmp_path / "served.jpg"
    served.write_bytes(fetched(client, photo, "web_image"))
    assert detail(served, (365, 365, 480, 480)) < detail(portrait, (365, 365, 480, 480)) / 3
    assert region_change(portrait, served, FACE) < 3  # the face may be shown, so it is

    remove(db, facilitator, photo, box.id)
    db.commit()
    build_redacted_media(services, photo.id)
    assert sha(fetched(client, photo, "web_image")) == sha(portrait.read_bytes())
    assert db.query(Derivative).filter_by(artefact_id=photo.id, kind="redacted_web_image").count() == 0


def test_the_team_always_sees_the_original(client, db, make, services, team, portrait):
    programme, facilitator = team
    photo = photo_with_face(make, db, services, programme, portrait)
    build_redacted_media(services, photo.id)
    sign_in_staff(client, make.staff(programme, Role.FACILITATOR, email="fac@example.org").email)
    assert sha(fetched(client, photo, "web_image")) == sha(portrait.read_bytes())


# ---- sound ---------------------------------------------------------------------------------------


def samples_16k(path: Path, tmp_path: Path) -> np.ndarray:
    wav = tmp_path / f"{path.stem}.wav"
    av.extract_audio_16k(path, wav)
    with wave.open(str(wav)) as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16).astype(float)


def tone_share(samples: np.ndarray, start: float, end: float, hz: int = 1000) -> float:
    """The share of a stretch's energy that sits within 30 Hz of `hz`."""
    chunk = samples[int(start * 16000):int(end * 16000)]
    spectrum = np.abs(np.fft.rfft(chunk)) ** 2
    freqs = np.fft.rfftfreq(len(chunk), 1 / 16000)
    return float(spectrum[np.abs(freqs - hz) < 30].sum() / spectrum.sum())


def test_a_marked_stretch_is_bleeped_for_readers_beyond_the_team(client, db, make, services, team, tmp_path):
    programme, facilitator = team
    note = voice_note(make, db, programme, ["and so my fellow americans"], voice=True)
    proxy = tmp_path / "proxy.m4a"
    av.make_proxy(SPEECH, proxy, av.probe(SPEECH))
    store_derivative(services, db, note, "proxy", proxy, "audio/mp4")
    bleep_sound(db, facilitator, note, 2.0, 4.0)
    db.commit()
    assert build_redacted_media(services, note.id) == ["redacted_proxy"]

    sign_in_staff(client, make.staff(programme, Role.ANALYST, email="ana@example.org").email)
    served = tmp_path / "served.m4a"
    served.write_bytes(fetched(client, note, "proxy"))
    original, bleeped = samples_16k(proxy, tmp_path), samples_16k(served, tmp_path)
    assert tone_share(bleeped, 2.2, 3.8) > 0.95  # nothing but the tone where the words were
    assert tone_share(original, 2.2, 3.8) < 0.2
    after = slice(int(5.0 * 16000), int(9.0 * 16000))
    assert np.corrcoef(original[after], bleeped[after])[0, 1] > 0.9  # the rest still speaks


def test_a_recording_without_voice_consent_is_not_played_beyond_the_team(client, db, make, services, team, tmp_path):
    programme, _ = team
    note = voice_note(make, db, programme, ["hello"], voice=False)
    proxy = tmp_path / "proxy.m4a"
    av.make_proxy(SPEECH, proxy, av.probe(SPEECH))
    store_derivative(services, db, note, "proxy", proxy, "audio/mp4")
    sign_in_staff(client, make.staff(programme, Role.ANALYST, email="ana@example.org").email)
    assert fetched(client, note, "proxy") is None
    assert fetched(client, note, "audio_16k") is None


def test_a_video_gets_boxes_pixelated_in_every_frame_and_sound_bleeped(tmp_path):
    from media.ffmpeg import run_ffmpeg
    from media.redact import redact_recording

    clip = tmp_path / "clip.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "cellauto=size=320x240:rate=25:rule=30", "-t", "2", "-f", "lavfi",
                "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-c:v", "libx264", "-c:a", "aac",
                "-shortest", "-y", str(clip)], timeout=60, memory_mb=av.TRANSCODE_MEMORY_MB)
    proxy, redacted = tmp_path / "proxy.mp4", tmp_path / "redacted.mp4"
    av.make_proxy(clip, proxy, av.probe(clip))
    redact_recording(proxy, redacted, sound=[(0.5, 1.0)], boxes=[Box(0.25, 0.25, 0.5, 0.5)])

    before, after = av.probe(proxy), av.probe(redacted)
    assert after.has_video and after.has_audio and abs(after.duration - before.duration) < 0.1
    stills = {}
    for name, path in (("before", proxy), ("after", redacted)):
        stills[name] = tmp_path / f"{name}.jpg"
        av.make_poster(path, stills[name], av.probe(path))
    inside, outside = (90, 70, 230, 170), (0, 0, 70, 50)
    assert detail(stills["after"], inside) < detail(stills["before"], inside) / 3
    # The clip is re-encoded, so outside the box the pixels move a little; their detail must not.
    assert detail(stills["after"], outside) > 0.75 * detail(stills["before"], outside)
    assert tone_share(samples_16k(redacted, tmp_path), 0.6, 0.9) > 0.95


def test_media_is_served_in_byte_ranges_so_players_can_seek(client, db, make, services, team, portrait):
    programme, _ = team
    photo = photo_with_face(make, db, services, programme, portrait)
    sign_in_staff(client, make.staff(programme, Role.FACILITATOR, email="fac@example.org").email)
    whole = portrait.read_bytes()
    response = client.get(f"/media/{photo.id}/web_image", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206 and response.data == whole[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("fmt", ["artefacts_csv", "themes_csv", "transcripts_csv", "qdpx", "quotes_md", "quotes_csv"])
def test_hidden_words_are_covered_in_every_export(db, make, services, team, fmt):
    import io as bytes_io
    import zipfile

    from archive.exports.quotes import add_quote
    from archive.exports.service import make_export
    from archive.models import TagSource, TagStatus, ThemeTag, TranscriptStatus

    programme, facilitator = team
    note = voice_note(make, db, programme, ["jamie says the park is shut", "so we stay in"], voice=True)
    note.title = "Jamie's park"
    note.transcript.status = TranscriptStatus.APPROVED
    db.add(ThemeTag(artefact_id=note.id, framework="determinants", theme="place", source=TagSource.MODEL,
                    status=TagStatus.ACCEPTED, evidence="Jamie and me at the park"))
    db.commit()
    analyst = staff_principal(make.staff(programme, Role.ANALYST, email="ana@example.org"))
    add_quote(db, analyst, note, "story", "Jamie and me at the park")
    hide_words(db, facilitator, note, "story", 0, 5, "name")  # after the quote was picked
    hide_words(db, facilitator, note, "title", 0, 5, "name")
    hide_words(db, facilitator, note, "transcript", 0, 5, "name", segment_id=note.transcript.segments[0].id)
    db.commit()

    delivered = make_export(db, analyst, programme, fmt, storage=services.storage)
    with zipfile.ZipFile(bytes_io.BytesIO(delivered.content)) as packed:
        everything = b"".join(packed.read(name) for name in packed.namelist() if name != "manifest.json")
    assert b"jamie" not in everything.lower()
    assert b"[name]" in everything.replace(b"\\", b"")  # Markdown escapes the brackets


def test_a_hidden_name_leaves_search_and_the_index_files(client, db, make, services, team):
    from ingest.jobs import refresh_index_job
    from search.service import run_search
    from tests.conftest import csrf_token

    programme, facilitator = team
    note = voice_note(make, db, programme, ["zebedee waits at the bus stop"], voice=True)
    refresh_index_job([str(note.id)])
    analyst = staff_principal(make.staff(programme, Role.ANALYST, email="ana@example.org"))
    assert [h.id for h in run_search(services, analyst, Context.ANALYSIS, "zebedee").hits] == [str(note.id)]

    sign_in_staff(client, make.staff(programme, Role.FACILITATOR, email="fac@example.org").email)
    token = csrf_token(client.get(f"/review/items/{note.id}").get_data(as_text=True))
    client.post(f"/review/items/{note.id}/redactions", data={"csrf_token": token, "kind": "words",
                                                             "phrase": "Zebedee", "label": "name"})
    assert run_search(services, analyst, Context.ANALYSIS, "zebedee").total == 0
    found = run_search(services, analyst, Context.ANALYSIS, "bus stop")
    assert "name]" in found.hits[0].snippet and "zebedee" not in found.hits[0].snippet.lower()
    index_bytes = b"".join(p.read_bytes() for p in Path(services.settings.index_dir).rglob("*") if p.is_file())
    assert b"zebedee" not in index_bytes.lower()
