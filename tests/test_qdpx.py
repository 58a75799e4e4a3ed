"""The REFI-QDA project export, validated against the REFI-QDA Project schema (tests/data, MIT licence)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import xmlschema
from PIL import Image

from archive.exports.service import make_export
from archive.frameworks import load_framework
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
from archive.principal import staff_principal

SCHEMA = Path(__file__).parent / "data" / "refi-qda-project-1.0.xsd"
NS = {"q": "urn:QDA-XML:project:1.0"}


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _picture(make, db, artefact):
    stored = make.storage.put(f"{artefact.storage_prefix}derivatives/web.jpg", io.BytesIO(_jpeg()))
    db.add(Derivative(artefact_id=artefact.id, kind="web_image", object_key=stored.key, sha256=stored.sha256,
                      size_bytes=stored.size, media_type="image/jpeg"))


@pytest.fixture
def project(make, db):
    programme = make.programme("riverside")
    session = make.session(programme)

    def person(level, **flags):
        participant = make.participant(session)
        make.consent(participant, level, **flags)
        return participant

    open_person, shy_person, team_person = person(ConsentLevel.REPORT, face=True), person(ConsentLevel.REPORT), \
        person(ConsentLevel.TEAM, face=True)
    story = make.artefact(open_person, story="The bus never comes on Sundays & <never> on time", title="Buses")
    voice = make.artefact(shy_person, kind=ArtefactKind.VOICE_NOTE, title="Voice")
    db.add(Transcript(artefact_id=voice.id, segments=[
        TranscriptSegment(position=0, start=0.0, end=2.0, text="We have no money for trips"),
        TranscriptSegment(position=1, start=2.0, end=4.0, text="but nan helps"),
    ]))
    photo_ok = make.artefact(open_person, kind=ArtefactKind.PHOTO, title="My street")
    photo_no_face = make.artefact(shy_person, kind=ArtefactKind.PHOTO, title="Friends")
    drawing = make.artefact(shy_person, kind=ArtefactKind.DRAWING, title="Home")
    team_photo = make.artefact(team_person, kind=ArtefactKind.PHOTO, title="Team only")
    for item in (photo_ok, photo_no_face, drawing, team_photo):
        _picture(make, db, item)
    tags = [
        (story, "transport", TagSource.MODEL, TagStatus.ACCEPTED, Polarity.BARRIER, "bus never comes"),
        (story, "money", TagSource.MODEL, TagStatus.SUGGESTED, Polarity.BARRIER, "bus"),
        (voice, "money", TagSource.MODEL, TagStatus.ACCEPTED, Polarity.BARRIER, "no money for trips"),
        (voice, "family", TagSource.PARTICIPANT, TagStatus.SUGGESTED, Polarity.ASSET, "words not there"),
        (drawing, "housing", TagSource.FACILITATOR, TagStatus.ACCEPTED, Polarity.NEUTRAL, None),
    ]
    for artefact, theme, source, status, polarity, evidence in tags:
        db.add(ThemeTag(artefact_id=artefact.id, framework="determinants", theme=theme, source=source,
                        status=status, polarity=polarity, evidence=evidence))
    db.commit()
    principal = staff_principal(make.staff(programme, Role.ANALYST))
    delivered = make_export(db, principal, programme, "qdpx", storage=make.storage)
    db.commit()
    with zipfile.ZipFile(io.BytesIO(delivered.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return {"files": files, "delivered": delivered, "story": story, "voice": voice, "photo_ok": photo_ok,
            "photo_no_face": photo_no_face, "drawing": drawing, "team_photo": team_photo}


def test_project_qde_is_valid_against_the_refi_qda_schema(project):
    assert project["delivered"].filename.endswith(".qdpx")
    schema = xmlschema.XMLSchema(str(SCHEMA))
    schema.validate(io.BytesIO(project["files"]["project.qde"]))


def test_the_schema_check_is_real(project):
    broken = project["files"]["project.qde"].replace(b'isCodable="true"', b'isCodable="maybe"', 1)
    assert not xmlschema.XMLSchema(str(SCHEMA)).is_valid(io.BytesIO(broken))


def test_codebook_is_the_programmes_framework(project):
    root = ET.fromstring(project["files"]["project.qde"])
    top = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    framework = load_framework("determinants")
    assert [c.get("name") for c in top] == [t.label for t in framework]
    money = next(c for c in top if c.get("name") == framework.theme("money").label)
    assert [c.get("name") for c in money.findall("q:Code", NS)] == [f"{money.get('name')}: barrier",
                                                                      f"{money.get('name')}: asset"]


def _codes_by_guid(root) -> dict[str, str]:
    return {c.get("guid"): c.get("name") for c in root.iter("{urn:QDA-XML:project:1.0}Code")}


def test_text_sources_and_codings_follow_accepted_and_peoples_own_tags(project):
    files = project["files"]
    root = ET.fromstring(files["project.qde"])
    codes = _codes_by_guid(root)
    sources = {s.find("q:Description", NS).text.split()[-1]: s for s in root.findall("q:Sources/q:TextSource", NS)}
    assert set(sources) == {str(project["story"].id), str(project["voice"].id)}

    story = sources[str(project["story"].id)]
    text = files["Sources/" + story.get("plainTextPath").removeprefix("internal://")].decode("utf-8")
    assert text == "The bus never comes on Sundays & <never> on time"
    selections = story.findall("q:PlainTextSelection", NS)
    assert len(selections) == 1  # the unaccepted model suggestion is not a coding
    start, end = int(selections[0].get("startPosition")), int(selections[0].get("endPosition"))
    assert text[start:end] == "bus never comes"
    ref = selections[0].find("q:Coding/q:CodeRef", NS).get("targetGUID")
    assert codes[ref] == load_framework("determinants").theme("transport").label + ": barrier"

    voice = sources[str(project["voice"].id)]
    voice_text = files["Sources/" + voice.get("plainTextPath").removeprefix("internal://")].decode("utf-8")
    assert voice_text == "We have no money for trips\nbut nan helps"
    spans = {voice_text[int(s.get("startPosition")):int(s.get("endPosition"))]
             for s in voice.findall("q:PlainTextSelection", NS)}
    assert spans == {"no money for trips", voice_text}  # the participant's pick codes the whole source


def test_pictures_only_where_consent_allows_them(project):
    root = ET.fromstring(project["files"]["project.qde"])
    pictures = {s.find("q:Description", NS).text.split()[-1]: s for s in root.findall("q:Sources/q:PictureSource", NS)}
    assert set(pictures) == {str(project["photo_ok"].id), str(project["drawing"].id)}
    for source in pictures.values():
        name = "Sources/" + source.get("path").removeprefix("internal://")
        assert project["files"][name][:2] == b"\xff\xd8"
    drawing_codes = [c.get("targetGUID") for c in pictures[str(project["drawing"].id)].findall("q:Coding/q:CodeRef", NS)]
    assert [_codes_by_guid(root)[g] for g in drawing_codes] == [load_framework("determinants").theme("housing").label]


def test_the_project_carries_its_manifest(project):
    manifest = json.loads(project["files"]["manifest.json"])
    held = {i["artefact_id"] for i in manifest["items"]}
    assert str(project["team_photo"].id) not in held and str(project["photo_no_face"].id) in held
    listed = {f["name"] for f in manifest["files"]}
    assert listed == set(project["files"]) - {"manifest.json"}
