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

import pytest
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "archive" / "demo"
CONTENT = DEMO / "content.json"
MEDIA_MD = DEMO / "MEDIA.md"
GENERATOR = REPO / "scripts" / "make_demo_media.py"

LEVELS = ["none", "team", "report", "exhibit"]  # ascending: a lower level is more restrictive
RECORD_KEYS = {"scope", "level", "credit", "face", "voice", "giver", "method", "witness", "child_assent"}
GIVERS = {"young_person", "parent_carer"}
METHODS = {"in_app", "paper", "verbal_witnessed"}
AVATARS = {"fox", "owl", "star", "rocket", "cat", "tree", "sun", "fish"}
AGE_BANDS = {"0-5": (0, 5), "5-11": (5, 11), "11-15": (11, 15), "16-19": (16, 19), "20-25": (20, 25)}
PLACE_TYPES = {"school", "family_hub", "youth_club"}
STAFF_ROLES = {"facilitator", "analyst", "admin"}
THEMES = {"money", "housing", "transport", "food", "education", "family", "peers", "location",
          "living_conditions", "employment", "physical_health", "mental_health"}
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


def _under_13(participant: dict) -> bool:
    if participant["role"] != "young_person":
        return False
    if participant["birth_month"] is None:
        return True  # unknown age: treat as the youngest, the safe side
    return _age_on(participant["birth_month"], _session_day(participant)) < 13


def _ffmpeg() -> str:
    return pytest.importorskip("imageio_ffmpeg", reason="imageio-ffmpeg provides the ffmpeg used to probe media").get_ffmpeg_exe()


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
        assert s["ward"] and s["venue"] and s["title"]
        date.fromisoformat(s["date"])
        assert s["age_bands"] and set(s["age_bands"]) <= AGE_BANDS.keys()
        assert s["facilitator"] in staff


def test_participants_are_plausible():
    assert len(PARTICIPANTS) == len(DATA["participants"]) >= 8
    bands_seen = set()
    for p in PARTICIPANTS.values():
        assert p["session"] in SESSIONS, p["key"]
        assert p["avatar"] in AVATARS, p["key"]
        assert p["age_band"] in SESSIONS[p["session"]]["age_bands"], p["key"]
        assert isinstance(p["send"], bool)
        bands_seen.add(p["age_band"])
        # Families with 0-5s: the parent is the participant, and no date of birth is held for them.
        if p["age_band"] == "0-5":
            assert p["role"] == "parent_carer" and p["birth_month"] is None, p["key"]
        else:
            assert p["role"] == "young_person", p["key"]
        if p["age_band"] == "20-25":
            assert p["send"], "20-25s take part only with SEND"
        if p["birth_month"] is not None:
            assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", p["birth_month"]), p["key"]
            lo, hi = AGE_BANDS[p["age_band"]]
            assert lo <= _age_on(p["birth_month"], _session_day(p)) <= hi, p["key"]
    assert bands_seen == AGE_BANDS.keys()
    assert any(p["send"] for p in PARTICIPANTS.values())


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
    assert sorted(referenced) == on_disk


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
        times = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in history]
        assert times == sorted(times), f"{where}: history must run oldest first"
        for e in history:
            assert set(e) == {"at", "record", "note"}, where
            r = e["record"]
            assert set(r) == RECORD_KEYS, f"{where}: {sorted(r)}"
            assert r["scope"] == scope, where
            assert r["level"] in LEVELS, where
            assert all(isinstance(r[f], bool) for f in ("credit", "face", "voice")), where
            assert r["giver"] in GIVERS and r["method"] in METHODS, where
            # A witness is named exactly when consent was given aloud.
            if r["method"] == "verbal_witnessed":
                assert r["witness"] in staff_names, where
            else:
                assert r["witness"] is None, where
            assert r["child_assent"] in (True, False, None), where
            if p["role"] == "parent_carer":
                assert r["giver"] == "parent_carer" and r["child_assent"] is None, where
            elif r["giver"] == "young_person":
                # An under-13's own record is their assent; older young people consent, so it is null.
                assert r["child_assent"] is (True if _under_13(p) else None), where
            else:
                age = _age_on(p["birth_month"], _session_day(p))
                assert age < 18, f"{where}: a parent/carer cannot consent for an adult"


def _deciding(records: dict, p: dict) -> tuple[list[dict], str]:
    """The reference rule in MEDIA.md: which latest records decide, and the ceiling."""
    if p["role"] == "parent_carer":
        return [records["parent_carer"]], "exhibit"
    if _under_13(p):
        if "parent_carer" not in records:
            return [records["young_person"]], "team"
        ceiling = "none" if records["parent_carer"]["child_assent"] is False else "exhibit"
        return [records[g] for g in ("parent_carer", "young_person") if g in records], ceiling
    return [records["young_person"]], "exhibit"


def _effective(deciding: list[dict], ceiling: str) -> dict:
    level = min([ceiling] + [r["level"] for r in deciding], key=LEVELS.index)
    return {"level": level, **{f: all(r[f] for r in deciding) for f in ("credit", "face", "voice")}}


def _participant_effective(p: dict) -> dict:
    latest = {e["record"]["giver"]: e["record"] for e in p["consent_history"]}
    if not latest:
        return {"level": "none", "credit": False, "face": False, "voice": False}
    return _effective(*_deciding(latest, p))


def _artefact_effective(a: dict) -> dict:
    base = _participant_effective(PARTICIPANTS[a["participant"]])
    if not a["consent_history"]:
        return base
    r = a["consent_history"][-1]["record"]
    return {"level": min(base["level"], r["level"], key=LEVELS.index), **{f: base[f] and r[f] for f in ("credit", "face", "voice")}}


def test_demo_expectations_follow_the_reference_rule():
    for p in PARTICIPANTS.values():
        want = {k: v for k, v in p["demo_expect"].items() if k != "why"}
        assert _participant_effective(p) == want, p["key"]
    for a in ARTEFACTS:
        want = {k: v for k, v in a["demo_expect"].items() if k != "why"}
        assert _artefact_effective(a) == want, a["key"]


def test_consent_scenarios_are_mixed():
    eff = {k: _participant_effective(p) for k, p in PARTICIPANTS.items()}

    def givers(p):
        return {e["record"]["giver"] for e in p["consent_history"]}

    under13 = [p for p in PARTICIPANTS.values() if _under_13(p)]
    assert any(givers(p) == {"young_person"} and eff[p["key"]]["level"] == "team"
               and p["consent_history"][-1]["record"]["level"] != "team" for p in under13), "under-13 capped at team by own assent only"
    assert any("parent_carer" in givers(p) and eff[p["key"]]["level"] == "report" for p in under13), "under-13 with parent consent to report"
    assert any(not _under_13(p) and p["role"] == "young_person" and p["age_band"] in {"11-15", "16-19"}
               and eff[p["key"]]["level"] == "exhibit" and eff[p["key"]]["credit"] for p in PARTICIPANTS.values()), "teen exhibit + credit"
    assert any(p["age_band"] == "0-5" and eff[p["key"]]["level"] == "report" and not eff[p["key"]]["voice"]
               for p in PARTICIPANTS.values()), "parent of 0-5 at report without voice"
    withdrawn = [a for a in ARTEFACTS if len(a["consent_history"]) >= 2
                 and a["consent_history"][0]["record"]["level"] != "none" and a["consent_history"][-1]["record"]["level"] == "none"]
    assert withdrawn, "a participant who later withdraws an item"
    assert {e["record"]["method"] for _, _, _, h in _histories() for e in h} == METHODS
    assert {eff[k]["level"] for k in eff} >= {"team", "report", "exhibit"}
