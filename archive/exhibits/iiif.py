"""An exhibit as a IIIF Presentation 3 manifest, so it opens in IIIF viewers.

One canvas per live item that has a picture or a recording the public may get: an image canvas
(height and width), or a time-based one (duration, and for video the frame size) whose captions
are a supplementing annotation pointing at the public WebVTT, made from the shareable transcript.
Items with only words (a story, or a recording whose voice may not be played) are left out: a
canvas needs something to paint, and the exhibit page has their words.
"""

from __future__ import annotations

from typing import Protocol

from iiif_prezi3 import Annotation, AnnotationPage, Canvas, KeyValueString, Manifest, Resource
from sqlalchemy.orm import Session

from ..models import Exhibit
from .showing import ShownItem, shown_items


class Urls(Protocol):
    def manifest(self) -> str: ...
    def page(self) -> str: ...
    def media(self, shown: ShownItem, kind: str) -> str: ...
    def captions(self, shown: ShownItem) -> str: ...


def _duration(shown: ShownItem) -> float:
    transcript = shown.artefact.transcript
    if transcript is not None and transcript.duration:
        return float(transcript.duration)
    # A recording with no known length still needs one: the end of its last line, at least a second.
    return max([s.end for s in shown.segments] + [1.0])


def exhibit_item_label(shown: ShownItem) -> str:
    return shown.artefact.kind.value.replace("_", " ").capitalize()


def _lang(value: str, language: str) -> dict:
    return {language: [value]}


def _canvas(shown: ShownItem, urls: Urls, language: str) -> Canvas | None:
    base = f"{urls.page()}/canvas/{shown.artefact_id}"
    label = _lang(shown.title or shown.caption or exhibit_item_label(shown), language)
    if shown.recording is not None:
        media = shown.recording
        is_video = media.media_type.startswith("video")
        size = {"height": media.height, "width": media.width} if is_video and media.height and media.width else {}
        duration = _duration(shown)
        canvas = Canvas(id=base, label=label, duration=duration, **size)
        body = Resource(id=urls.media(shown, "proxy"), type="Video" if is_video else "Sound",
                        format=media.media_type, duration=duration, **size)
    elif shown.picture is not None and shown.picture.height and shown.picture.width:
        media = shown.picture
        size = {"height": media.height, "width": media.width}
        canvas = Canvas(id=base, label=label, **size)
        described = {"label": _lang(shown.alt_text, language)} if shown.alt_text else {}
        body = Resource(id=urls.media(shown, shown.picture_kind), type="Image", format=media.media_type,
                        **size, **described)
    else:
        return None
    canvas.items = [AnnotationPage(id=f"{base}/page", items=[
        Annotation(id=f"{base}/page/painting", motivation="painting", target=base, body=body)])]
    if shown.captions:
        captions = Resource(id=urls.captions(shown), type="Text", format="text/vtt", language=language,
                            label=_lang("Captions", "en"))
        canvas.annotations = [AnnotationPage(id=f"{base}/captions", items=[
            Annotation(id=f"{base}/captions/1", motivation="supplementing", target=base, body=captions)])]
    notes = []
    if shown.caption:
        notes.append(KeyValueString(label=_lang("Caption", "en"), value=_lang(shown.caption, language)))
    if shown.credit:
        notes.append(KeyValueString(label=_lang("By", "en"), value=_lang(shown.credit, language)))
    if notes:
        canvas.metadata = notes
    return canvas


def manifest(db: Session, exhibit: Exhibit, urls: Urls, language: str = "en") -> Manifest:
    result = Manifest(id=urls.manifest(), label=_lang(exhibit.title, language))
    if exhibit.intro:
        result.summary = _lang(exhibit.intro, language)
    result.homepage = [{"id": urls.page(), "type": "Text", "label": _lang(exhibit.title, language),
                        "format": "text/html"}]
    canvases = [_canvas(s, urls, language) for s in shown_items(db, exhibit)]
    result.items = [c for c in canvases if c is not None]
    return result
