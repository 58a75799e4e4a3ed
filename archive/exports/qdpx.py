"""A REFI-QDA project (``.qdpx``) so analysts can carry on in NVivo, ATLAS.ti, MAXQDA or QualCoder.

The project follows the REFI-QDA Project Exchange standard 1.0 (``urn:QDA-XML:project:1.0``):

* codes: the programme's framework (its themes, each with "barrier" and "asset" sub-codes), so the
  codebook is the same one the programme tags with;
* sources: one text source per item with words (story, and transcript one segment a line), and a
  picture source for a photo or drawing where report consent and the face flag allow the picture;
  voice notes and videos travel as their transcripts, never as recordings;
* codings: the tags that count as findings (``tables.counted_tags``), placed on the tag's evidence
  where it can be found in the text, otherwise on the whole source;
* variables: kind, age band, area, session and date on each source, for case classification.

GUIDs of codes and sources are derived from the programme and artefact, so two exports of the same
programme share them and a tool can merge rather than duplicate.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Sequence

from sqlalchemy.orm import object_session

from ..consent import Context
from ..curation.redaction import cover_hidden, shareable_text
from ..curation.shown_media import media_state, shown_derivative
from ..frameworks import Framework
from ..models import Artefact, ArtefactKind, Polarity, Programme, ThemeTag
from ..principal import Principal
from .register import ExportFile
from .tables import area_of, counted_tags

NS = "urn:QDA-XML:project:1.0"
ORIGIN = "Chorus"
# A fixed namespace for the stable GUIDs (any UUID works; this one is Chorus's own).
GUID_NAMESPACE = uuid.UUID("6f1b8c2e-4d1a-5b7e-9c3f-2a8d4e6b1c90")
PICTURE_DERIVATIVE = "web_image"
PICTURE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
VARIABLES = ("Kind", "Age band", "Area", "Session", "Date")
POLARITY_CODES = (Polarity.BARRIER, Polarity.ASSET)

ET.register_namespace("", NS)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _guid(*parts) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, ":".join(str(p) for p in parts)))


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def source_text(artefact: Artefact) -> str:
    """The words of an item as one plain text, hidden words covered: its story, then its transcript one segment a line."""
    shared = shareable_text(object_session(artefact), artefact)
    parts = []
    if shared.story.strip():
        parts.append(shared.story.strip())
    lines = [s.text.strip() for s in shared.segments if s.text.strip()]
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


class _Codebook:
    def __init__(self, programme: Programme, framework: Framework):
        self.programme = programme
        self.framework = framework
        self.extra: dict[str, str] = {}  # tags naming a theme outside the framework

    def guid(self, theme: str, polarity: Polarity | None = None) -> str:
        if theme not in self.framework:
            self.extra.setdefault(theme, _guid(self.programme.code, "code", theme))
        if polarity in POLARITY_CODES:
            return _guid(self.programme.code, "code", theme, polarity.value)
        return _guid(self.programme.code, "code", theme)

    def element(self) -> ET.Element:
        book = ET.Element(_q("CodeBook"))
        codes = _sub(book, "Codes")
        for theme in self.framework:
            code = _sub(codes, "Code", guid=self.guid(theme.code), name=theme.label, isCodable="true")
            if theme.description:
                _sub(code, "Description", theme.description)
            for polarity in POLARITY_CODES:
                _sub(code, "Code", guid=self.guid(theme.code, polarity),
                     name=f"{theme.label}: {polarity.value}", isCodable="true")
        for theme, guid in sorted(self.extra.items()):
            code = _sub(codes, "Code", guid=guid, name=theme, isCodable="true")
            for polarity in POLARITY_CODES:
                _sub(code, "Code", guid=self.guid(theme, polarity), name=f"{theme}: {polarity.value}",
                     isCodable="true")
        return book


def _coding(parent: ET.Element, codebook: _Codebook, tag: ThemeTag, user: str, when: str) -> None:
    coding = _sub(parent, "Coding", guid=str(uuid.uuid4()), creatingUser=user, creationDateTime=when)
    _sub(coding, "CodeRef", targetGUID=codebook.guid(tag.theme, tag.polarity))


def _variable_values(parent: ET.Element, programme: Programme, artefact: Artefact) -> None:
    values = (artefact.kind.value, artefact.participant.age_band.value, area_of(artefact), artefact.session.name,
              artefact.created_at.date().isoformat())
    for name, value in zip(VARIABLES, values):
        holder = _sub(parent, "VariableValue")
        _sub(holder, "VariableRef", targetGUID=_guid(programme.code, "variable", name))
        _sub(holder, "TextValue", value)


def _text_source(sources: ET.Element, files: list[ExportFile], programme: Programme, codebook: _Codebook,
                 artefact: Artefact, text: str, user: str, when: str) -> None:
    guid = _guid(programme.code, "text", artefact.id)
    source = _sub(sources, "TextSource", guid=guid, name=_source_name(artefact),
                  plainTextPath=f"internal://{guid}.txt", creatingUser=user, creationDateTime=when)
    _sub(source, "Description", f"Chorus item {artefact.id}")
    files.append(ExportFile(f"Sources/{guid}.txt", text.encode("utf-8")))
    folded = text.casefold()
    for tag in counted_tags(artefact):
        evidence = (cover_hidden(object_session(artefact), artefact, tag.evidence) or "").strip()
        start = folded.find(evidence.casefold()) if evidence else -1
        end = start + len(evidence)
        if start < 0:
            start, end = 0, len(text)
        selection = _sub(source, "PlainTextSelection", guid=str(uuid.uuid4()), name=text[start:end][:60],
                         startPosition=str(start), endPosition=str(end), creatingUser=user, creationDateTime=when)
        _coding(selection, codebook, tag, user, when)
    _variable_values(source, programme, artefact)


def _picture_source(sources: ET.Element, files: list[ExportFile], principal: Principal, storage,
                    programme: Programme, codebook: _Codebook, artefact: Artefact, user: str, when: str) -> None:
    if artefact.kind not in (ArtefactKind.PHOTO, ArtefactKind.DRAWING):
        return
    # The copy a report reader may see: faces and drawn boxes blurred unless consent says otherwise.
    kind = shown_derivative(principal, Context.REPORT_EXPORT, artefact, PICTURE_DERIVATIVE,
                            media_state(object_session(artefact), artefact))
    picture = next((d for d in artefact.derivatives if d.kind == kind), None) if kind else None
    if picture is None or picture.media_type not in PICTURE_EXTENSIONS:
        return
    with storage.open(picture.object_key) as handle:
        content = handle.read()
    guid = _guid(programme.code, "picture", artefact.id)
    name = f"{guid}.{PICTURE_EXTENSIONS[picture.media_type]}"
    source = _sub(sources, "PictureSource", guid=guid, name=_source_name(artefact), path=f"internal://{name}",
                  creatingUser=user, creationDateTime=when)
    _sub(source, "Description", f"Chorus item {artefact.id}")
    files.append(ExportFile(f"Sources/{name}", content))
    for tag in counted_tags(artefact):
        _coding(source, codebook, tag, user, when)
    _variable_values(source, programme, artefact)


def _source_name(artefact: Artefact) -> str:
    label = shareable_text(object_session(artefact), artefact).title.strip() or artefact.kind.value.replace("_", " ")
    return f"{label} ({str(artefact.id)[:8]})"


def build_project(principal: Principal, programme: Programme, framework: Framework, artefacts: Sequence[Artefact],
                  storage, *, user_name: str, when: datetime, description: str = "") -> list[ExportFile]:
    """project.qde and its Sources/ files for `artefacts` (already through the report-export gate)."""
    user = _guid("user", principal.user_id)
    stamp = _stamp(when)
    codebook = _Codebook(programme, framework)
    files: list[ExportFile] = []
    sources = ET.Element(_q("Sources"))
    for artefact in artefacts:
        text = source_text(artefact)
        if text:
            _text_source(sources, files, programme, codebook, artefact, text, user, stamp)
        _picture_source(sources, files, principal, storage, programme, codebook, artefact, user, stamp)

    project = ET.Element(_q("Project"), {
        "name": programme.name, "origin": ORIGIN, "creatingUserGUID": user, "creationDateTime": stamp,
    })
    users = _sub(project, "Users")
    _sub(users, "User", guid=user, name=user_name)
    project.append(codebook.element())  # after the sources, so tags outside the framework are known
    variables = _sub(project, "Variables")
    for name in VARIABLES:
        _sub(variables, "Variable", guid=_guid(programme.code, "variable", name), name=name, typeOfVariable="Text")
    if len(sources):
        project.append(sources)
    if description:
        _sub(project, "Description", description)
    qde = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    return [ExportFile("project.qde", qde), *files]
