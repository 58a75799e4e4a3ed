"""The invented demo archive in ``archive/demo`` must be complete, decodable and consistent.

The demo is what people see first and what the pipeline tests lean on (OCR reads the
drawings, speech-to-text hears the voice notes, metadata stripping must remove the GPS
canary), so a missing file, a broken reference or a malformed consent record here would
make those demonstrations lie.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
from datetime import date, datetime
from pathlib import Path

from types import SimpleNamespace

import pytest
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

from archive.consent import effective_decision, under_13_at
from archive.frameworks import load_framework
from archive.models import AgeBand, ArtefactKind, ConsentGiver, ConsentLevel, ConsentMethod, ConsentScope, PlaceType, Role

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "archive" / "demo"
CONTENT = DEMO / "content.json"
MEDIA_MD = DEMO / "MEDIA.md"
GENERATOR = REPO / "scripts" / "make_demo_media.py"

# The app's own vocabularies: the loader feeds these values straight into the models.
LEVELS = [level.label for level in ConsentLevel]  # ascending: a lower level is more restrictive
RECORD_KEYS = {"scope", "level", "credit", "face", "voice", "giver", "method", "witness", "child_assent"}
GIVERS = {g.value for g in ConsentGiver}
METHODS = {m.value for m in ConsentMethod}
AVATARS = {"fox", "owl", "star", "rocket", "cat", "tree", "sun", "fish"}
# Ages each band covers on the session date; family_0_5 participants are the parents, so no age.
AGE_BANDS = {"family_0_5": None, "5_11": (5, 11), "11_15": (11, 15), "16_19": (16, 19), "20_25_send": (20, 25)}
PLACE_TYPES = {"school", "family_hub", "youth_club"}
STAFF_ROLES = {r.value for r in Role}
THEMES = set(load_framework("determinants").codes)
PLACES = {"home", "school", "street", "park", "shop", "bus", "online"}
KIND_MEDIA = {  # kind -> (file suffix, media type); text stories carry no file
    "photo": (".jpg", "image/jpeg"),
    "drawing": (".png", "image/png"),
    "voice_note": (".ogg", "audio/ogg"),
    "video_diary": (".mp4", "video/mp4"),
    "text_story": (None, None),
}
MEDIA_BUDGET_BYTES = 3 * 1024 * 1024


def _load() -> dict:
    return json.loads(CONTENT.read_text(encoding="utf-8"))


DATA = _load()
SESSIONS = {s["key"]: s for s in DATA["sessions"]}
PARTICIPANTS = {p["key"]: p for p in DATA["participants"]}
ARTEFACTS = DATA["artefacts"]
WITH_MEDIA = [a for a in ARTEFACTS if a["media"]]


def _day(iso: str) -> date:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).date()


def _age_on(birth_month: str, day: date) -> int:
    # Only the month is kept, so the birthday is taken as the 1st: never overstates age by more than a month.
    y, m = (int(part) for part in birth_month.split("-"))
    return ((day.year - y) * 12 + day.month - m) // 12


def _session_day(participant: dict) -> date:
    return date.fromisoformat(SESSIONS[participant["session"]]["date"])


def _is_family(participant: dict) -> bool:
    return participant["age_band"] == AgeBand.FAMILY_0_5.value


def _as_participant(participant: dict) -> SimpleNamespace:
    """The shape archive.consent reads: an AgeBand and a first-of-month birth date."""
    born = participant["birth_month"]
    return SimpleNamespace(
        age_band=AgeBand(participant["age_band"]),
        birth_month=None if born is None else date.fromisoformat(born + "-01"),
    )


def _at(iso: str) -> datetime:
    # archive.consent compares naive UTC datetimes, as the database stores them.
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).replace(tzinfo=None)


def _under_13(participant: dict, when: str) -> bool:
    return under_13_at(_as_participant(participant), _at(when))


def _ffmpeg() -> str:
    # Imported here, not skipped when missing: a demo whose audio and video go unchecked would
    # pass silently. imageio-ffmpeg ships the ffmpeg binary, so no system ffmpeg is needed.
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _probe(path: Path) -> tuple[float, list[tuple[str, str]]]:
    """Duration in seconds and (type, codec) per stream, from ffmpeg's own banner."""
    # With no output file ffmpeg exits 1 after printing the input description; that is expected.
    info = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", info)
    assert m, f"ffmpeg found no duration in {path.name}:\n{info}"
    seconds = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    streams = re.findall(r"Stream #\d+:\d+\S*: (Audio|Video): (\w+)", info)
    return seconds, streams


def _walk(value, path="$"):
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path}.{k}", k, v
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


# ----------------------------------------------------------------------------- shape


def test_vocabularies_match_the_app():
    assert set(AGE_BANDS) == {b.value for b in AgeBand}
    assert PLACE_TYPES <= {p.value for p in PlaceType}
    assert set(KIND_MEDIA) == {k.value for k in ArtefactKind}
    assert {s.value for s in ConsentScope} == {"participant", "artefact"}


def test_top_level_shape_and_schema_note():
    assert {"$schema_note", "programme", "staff", "sessions", "participants", "artefacts", "canaries"} <= DATA.keys()
    assert DATA["$schema_note"] and all(isinstance(line, str) for line in DATA["$schema_note"])
    prog = DATA["programme"]
    assert prog["code"] == "riverside-listening"
    assert prog["framework"] == "determinants"
    assert prog["name"]


def test_staff_roles_emails_and_no_secrets():
    assert sorted(s["role"] for s in DATA["staff"]) == sorted(STAFF_ROLES)
    assert len({s["key"] for s in DATA["staff"]}) == len(DATA["staff"])
    for s in DATA["staff"]:
        assert re.fullmatch(r"[a-z.]+@example\.org", s["email"]), s["email"]
    # The loader generates and prints passwords; none may ever be committed here.
    for where, key, _ in _walk(DATA):
        assert not re.search(r"pass|secret|token|hash", key, re.I), f"credential-like key at {where}"


def test_sessions():
    staff = {s["key"] for s in DATA["staff"]}
    assert len(SESSIONS) == len(DATA["sessions"]) == 3
    assert {s["place_type"] for s in SESSIONS.values()} == PLACE_TYPES
    assert len({s["area_code"] for s in SESSIONS.values()}) == 3
    for s in SESSIONS.values():
        assert re.fullmatch(r"RV\d\d", s["area_code"])
        assert s["ward"] and s["venue"] and s["name"]
        date.fromisoformat(s["date"])
        assert s["age_band"] is None or s["age_band"] in AGE_BANDS  # None: a mixed-age session
        assert s["facilitator"] in staff


def test_participants_are_plausible():
    assert len(PARTICIPANTS) == len(DATA["participants"]) >= 8
    bands_seen = set()
    for p in PARTICIPANTS.values():
        session = SESSIONS.get(p["session"])
        assert session, p["key"]
        assert p["avatar"] in AVATARS, p["key"]
        assert p["age_band"] in AGE_BANDS, p["key"]
        assert session["age_band"] in (None, p["age_band"]), p["key"]
        assert isinstance(p["send"], bool) and p["scenario"], p["key"]
        bands_seen.add(p["age_band"])
        span = AGE_BANDS[p["age_band"]]
        if span is None:
            # Families with 0-5s: the parent is the participant, and no date of birth is held for them.
            assert p["birth_month"] is None, p["key"]
        else:
            assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", p["birth_month"] or ""), p["key"]
            assert span[0] <= _age_on(p["birth_month"], _session_day(p)) <= span[1], p["key"]
        if p["age_band"] == AgeBand.AGE_20_25_SEND.value:
            assert p["send"], "20-25s take part only with SEND"
    assert bands_seen == AGE_BANDS.keys()
    assert any(p["send"] and p["age_band"] != AgeBand.AGE_20_25_SEND.value for p in PARTICIPANTS.values())


def test_aliases_unique_per_session():
    seen = set()
    for p in PARTICIPANTS.values():
        assert p["alias"].strip(), p["key"]
        key = (p["session"], p["alias"].casefold())
        assert key not in seen, f"alias {p['alias']} used twice in {p['session']}"
        seen.add(key)


def test_artefacts_resolve_and_are_complete():
    keys = [a["key"] for a in ARTEFACTS]
    assert len(keys) == len(set(keys))
    assert len(ARTEFACTS) >= 15
    for a in ARTEFACTS:
        assert a["participant"] in PARTICIPANTS, a["key"]
        assert a["kind"] in KIND_MEDIA, a["key"]
        suffix, media_type = KIND_MEDIA[a["kind"]]
        if suffix is None:
            assert a["media"] is None and a["media_type"] is None, a["key"]
        else:
            # Relative to archive/demo, inside media/, never escaping it.
            assert re.fullmatch(r"media/[a-z0-9-]+" + re.escape(suffix), a["media"]), a["key"]
            assert a["media_type"] == media_type, a["key"]
        assert a["title"].strip() and len(a["story"].split()) >= 8, a["key"]
        assert a["themes"] and set(a["themes"]) <= THEMES and len(set(a["themes"])) == len(a["themes"]), a["key"]
        assert a["place"] in PLACES, a["key"]
        assert _day(a["created_at"]) >= _session_day(PARTICIPANTS[a["participant"]]), a["key"]
        # SHOWeD answers for photovoice; ground truth for OCR and speech-to-text where they apply.
        if a["kind"] == "photo":
            assert set(a["showed"]) == {"see", "happening", "our_lives", "why", "do"} and all(a["showed"].values()), a["key"]
        else:
            assert a["showed"] is None, a["key"]
        assert bool(a["transcript"]) == (a["kind"] in {"voice_note", "video_diary"}), a["key"]
        assert bool(a["written_words"]) == (a["kind"] == "drawing"), a["key"]
    kinds = {a["kind"] for a in ARTEFACTS}
    assert kinds == KIND_MEDIA.keys()


def test_every_media_file_is_referenced_exactly_once():
    referenced = [a["media"] for a in WITH_MEDIA]
    assert len(referenced) == len(set(referenced))
    on_disk = sorted(f"media/{p.name}" for p in (DEMO / "media").iterdir())
    assert sorted(referenced) == on_disk, "every media file is used by one artefact, and every reference exists"


def test_media_budget():
    total = sum(p.stat().st_size for p in (DEMO / "media").iterdir())
    assert total < MEDIA_BUDGET_BYTES, f"demo media is {total} bytes"


# ----------------------------------------------------------------------------- media files


@pytest.mark.parametrize("artefact", [a for a in WITH_MEDIA if a["kind"] in {"photo", "drawing"}], ids=lambda a: a["key"])
def test_images_decode_as_their_type(artefact):
    path = DEMO / artefact["media"]
    with Image.open(path) as im:
        assert im.format == ("JPEG" if artefact["kind"] == "photo" else "PNG")
        im.load()  # full decode, not just the header
        assert min(im.size) >= 600


@pytest.mark.parametrize("artefact", [a for a in WITH_MEDIA if a["kind"] == "voice_note"], ids=lambda a: a["key"])
def test_voice_notes_are_real_audio(artefact):
    path = DEMO / artefact["media"]
    assert path.stat().st_size < 300 * 1024
    seconds, streams = _probe(path)
    assert 5.0 <= seconds <= 15.0, seconds
    assert [t for t, _ in streams] == ["Audio"], streams
    _assert_decodes(path)


@pytest.mark.parametrize("artefact", [a for a in WITH_MEDIA if a["kind"] == "video_diary"], ids=lambda a: a["key"])
def test_video_diary_is_h264_with_aac_audio(artefact):
    path = DEMO / artefact["media"]
    seconds, streams = _probe(path)
    assert 2.0 <= seconds <= 8.0, seconds
    assert ("Video", "h264") in streams and ("Audio", "aac") in streams, streams
    _assert_decodes(path)


def _assert_decodes(path: Path) -> None:
    r = subprocess.run([_ffmpeg(), "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_gps_canary_photo_carries_gps_and_the_others_do_not():
    canary = DATA["canaries"]["exif_gps"]
    photos = [a["media"] for a in WITH_MEDIA if a["kind"] == "photo"]
    assert canary["media"] in photos
    for rel in photos:
        with Image.open(DEMO / rel) as im:
            exif = im.getexif()
            gps = exif.get_ifd(IFD.GPSInfo)
            if rel != canary["media"]:
                assert not gps, f"{rel} should carry no GPS: only one canary keeps the demo unambiguous"
                continue
            assert gps[GPS.GPSLatitudeRef] == canary["latitude_ref"]
            assert gps[GPS.GPSLongitudeRef] == canary["longitude_ref"]
            assert [float(v) for v in gps[GPS.GPSLatitude]] == pytest.approx(canary["latitude_dms"])
            assert [float(v) for v in gps[GPS.GPSLongitude]] == pytest.approx(canary["longitude_dms"])
            assert float(gps[GPS.GPSAltitude]) == pytest.approx(canary["altitude_m"])
            for name, value in canary["text_tags"].items():
                assert exif[Base[name]] == value
    lat = sum(v / 60**i for i, v in enumerate(canary["latitude_dms"]))
    lon = sum(v / 60**i for i, v in enumerate(canary["longitude_dms"]))
    assert canary["latitude"] == pytest.approx(lat, abs=1e-6)
    assert canary["longitude"] == pytest.approx(-lon if canary["longitude_ref"] == "W" else lon, abs=1e-6)


def test_transcripts_match_what_the_generator_speaks():
    # The transcripts are the ground truth for speech-to-text; they must be the words spoken.
    spec = importlib.util.spec_from_file_location("make_demo_media", GENERATOR)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    spoken = {f"media/{name}": v["text"] for name, v in gen.VOICE_NOTES.items()}
    spoken[f"media/{gen.VIDEO_NAME}"] = gen.VIDEO_SPEECH["text"]
    assert {a["media"]: a["transcript"] for a in WITH_MEDIA if a["transcript"]} == spoken


def test_media_md_records_every_file_and_the_canary():
    text = MEDIA_MD.read_text(encoding="utf-8")
    rows = dict((m[1], (int(m[2]), m[3])) for m in re.finditer(r"^\| (\S+) \| (\d+) \| ([0-9a-f]{64}) \|", text, re.M))
    for path in (DEMO / "media").iterdir():
        data = path.read_bytes()
        assert rows.get(path.name) == (len(data), hashlib.sha256(data).hexdigest()), (
            f"{path.name}: MEDIA.md's size/sha256 row is missing or stale; rerun scripts/make-demo-media.sh and paste its table")
    canary = DATA["canaries"]["exif_gps"]
    assert str(canary["latitude"]) in text and str(canary["longitude"]) in text


def test_no_machine_paths_in_demo_files():
    for path in (CONTENT, MEDIA_MD, GENERATOR, REPO / "scripts" / "make-demo-media.sh"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])/(work|root|home|tmp|Users|opt)/|[A-Z]:\\\\", text), path.name


# ----------------------------------------------------------------------------- consent


def _histories():
    for p in PARTICIPANTS.values():
        yield "participant", p, None, p["consent_history"]
    for a in ARTEFACTS:
        yield "artefact", PARTICIPANTS[a["participant"]], a, a["consent_history"]


def test_consent_records_are_well_formed():
    staff_names = {s["name"] for s in DATA["staff"]}
    for scope, p, a, history in _histories():
        where = a["key"] if a else p["key"]
        times = [_at(e["at"]) for e in history]
        assert times == sorted(times), f"{where}: history must run oldest first (list order is the version)"
        for e in history:
            assert set(e) == {"at", "record", "note"}, where
            r = e["record"]
            assert set(r) == RECORD_KEYS, f"{where}: {sorted(r)}"
            assert r["scope"] == scope, where
            assert r["level"] in LEVELS, where
            assert all(isinstance(r[f], bool) for f in ("credit", "face", "voice")), where
            assert r["giver"] in GIVERS and r["method"] in METHODS, where
            # A witness is named exactly when consent was given aloud.
            if r["method"] == ConsentMethod.VERBAL_WITNESSED.value:
                assert r["witness"] in staff_names, where
            else:
                assert r["witness"] is None, where
            assert r["child_assent"] in (True, False, None), where
            if r["giver"] == ConsentGiver.PARTICIPANT.value:
                # child_assent belongs beside a parent's consent, never on the person's own record.
                assert r["child_assent"] is None, where
            else:
                # A parent or carer speaks for a child, never for themselves or an adult.
                assert not _is_family(p), f"{where}: in a family group the parent is the participant"
                assert _age_on(p["birth_month"], _at(e["at"]).date()) < 18, f"{where}: no parent/carer consent for an adult"
            if a is not None:
                assert _at(e["at"]) >= _at(a["created_at"]), f"{where}: consent for an item before it existed"


def _records(history: list[dict]) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            scope=ConsentScope(e["record"]["scope"]),
            version=i,
            level=ConsentLevel.parse(e["record"]["level"]),
            credit=e["record"]["credit"],
            face=e["record"]["face"],
            voice=e["record"]["voice"],
            giver=ConsentGiver(e["record"]["giver"]),
            child_assent=e["record"]["child_assent"],
            created_at=_at(e["at"]),
        )
        for i, e in enumerate(history, start=1)
    ]


def _effective(p: dict, a: dict | None = None) -> dict:
    """What the app's consent gate makes of the history, in demo_expect's shape."""
    d = effective_decision(
        _as_participant(p), _records(p["consent_history"]), _records(a["consent_history"]) if a else ()
    )
    return {"level": d.level.label, "credit": d.credit, "face": d.face, "voice": d.voice}


def _expect(item: dict) -> dict:
    return {k: v for k, v in item["demo_expect"].items() if k != "why"}


def test_demo_expectations_match_the_consent_gate():
    # If this fails after a change to archive/consent.py, the demo's scenarios no longer show
    # what their notes say: update the scenario (or the gate), not just the numbers.
    for p in PARTICIPANTS.values():
        assert _effective(p) == _expect(p), p["key"]
    for a in ARTEFACTS:
        assert _effective(PARTICIPANTS[a["participant"]], a) == _expect(a), a["key"]


def test_consent_scenarios_are_mixed():
    eff = {k: _effective(p) for k, p in PARTICIPANTS.items()}

    def givers(p):
        return {e["record"]["giver"] for e in p["consent_history"]}

    def young(p):
        return _under_13(p, p["consent_history"][-1]["at"])

    under13 = [p for p in PARTICIPANTS.values() if not _is_family(p) and young(p)]
    assert any(givers(p) == {"participant"} and eff[p["key"]]["level"] == "team"
               and p["consent_history"][-1]["record"]["level"] not in ("none", "team") for p in under13), \
        "an under-13 who asked for more on their own assent alone, held at team"
    assert any("parent_carer" in givers(p) and eff[p["key"]]["level"] == "report" for p in under13), \
        "an under-13 with a parent/carer's consent to report"
    assert any(p["age_band"] in {"11_15", "16_19"} and not young(p)
               and eff[p["key"]]["level"] == "exhibit" and eff[p["key"]]["credit"] for p in PARTICIPANTS.values()), \
        "a teenager at exhibit with credit"
    assert any(_is_family(p) and eff[p["key"]]["level"] == "report" and not eff[p["key"]]["voice"]
               for p in PARTICIPANTS.values()), "a parent of under-5s at report without voice"
    assert any(len(a["consent_history"]) >= 2 and a["consent_history"][0]["record"]["level"] != "none"
               and a["consent_history"][-1]["record"]["level"] == "none" for a in ARTEFACTS), \
        "a participant who later withdraws an item"
    assert {e["record"]["method"] for _, _, _, h in _histories() for e in h} == METHODS
    assert {v["level"] for v in eff.values()} >= {"team", "report", "exhibit"}
