"""The pipeline's steps. Each takes a StepContext, does its work, writes its rows (the pipeline commits)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete

from archive.curation.redaction import redactions_of
from archive.programmes import programme_framework
from archive.models import (
    ArtefactKind,
    PersonalDetailFlag,
    Programme,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
    TranscriptStatus,
)
from media import images

from .pipeline import PICTURE_DERIVATIVES, StepContext, StepSkipped, picture_derivatives

PICTURE_KINDS = (ArtefactKind.PHOTO, ArtefactKind.DRAWING)


def derivatives(ctx: StepContext) -> None:
    """Thumbnails and a web image for pictures; 16 kHz audio, a playable proxy, poster and waveform for recordings.

    A picture's web image and thumbnail are made at acceptance, from the decode that checks the
    upload; they are made here only for items accepted before that was so. Faces are looked for
    in the web image, which shows the whole picture upright at more than the detector's size.
    """
    if ctx.artefact.kind not in PICTURE_KINDS:
        _recording_derivatives(ctx, ctx.master())
        return
    recorded = {kind: ctx.derivative(kind) for kind, _ in PICTURE_DERIVATIVES}
    if None in recorded.values():
        rows = ctx.store_derivatives(picture_derivatives(images.make_derivatives(ctx.master(), ctx.work)))
        recorded = {row.kind: row for row in rows}
    if ctx.artefact.kind == ArtefactKind.PHOTO:
        _detect_faces(ctx, lambda: ctx.fetch(recorded["web_image"].object_key, "web.jpg"))


def _recording_derivatives(ctx: StepContext, master) -> None:
    from media import av

    probed = av.probe(master)
    proxy = ctx.work / ("proxy.mp4" if probed.has_video else "proxy.m4a")
    av.make_proxy(master, proxy, probed)
    made = av.probe(proxy)  # the proxy's own size: scaled down and turned upright
    ctx.store_derivative("proxy", proxy, "video/mp4" if made.has_video else "audio/mp4", made.width, made.height)
    if probed.has_video:
        poster = ctx.work / "poster.jpg"
        av.make_poster(master, poster, probed)
        with images.open_image(poster) as img:
            size = img.size
        ctx.store_derivative("poster", poster, "image/jpeg", *size)
        _detect_faces(ctx, lambda: poster)  # one frame only: the identity review must not read "none" as "nobody"
    if not probed.has_audio:
        return
    wav = ctx.work / "audio16k.wav"
    av.extract_audio_16k(master, wav)
    ctx.store_derivative("audio_16k", wav, "audio/wav")
    peaks = ctx.work / "waveform.json"
    peaks.write_text(json.dumps({"peaks": [round(p, 3) for p in av.waveform_peaks(wav)]}))
    ctx.store_derivative("waveform", peaks, "application/json")


def _detect_faces(ctx: StepContext, picture: Callable[[], Path]) -> None:
    """Flag the item for the identity review if `picture()` shows a face (it is only fetched when looked at)."""
    from media import faces

    # A picture whose faces could not be looked for goes to the identity review: never unblurred by default.
    found = faces.detect_faces(picture()) if faces.available() else None
    ctx.ensure_live()
    ctx.artefact.has_faces = found is None or bool(found)


def extract_text(ctx: StepContext) -> None:
    """Read the words written on a drawing or photo, for tagging, search and the personal-details check."""
    from media import ocr

    if not ocr.available():
        raise StepSkipped("text extraction (rapidocr) is not installed on this server")
    lines = ocr.read_text(ctx.master())
    found = ctx.work / "ocr.json"
    found.write_text(json.dumps({"lines": [{"text": ln.text, "score": ln.score, "box": list(ln.box)} for ln in lines]}),
                     encoding="utf-8")
    ctx.store_derivative("ocr", found, "application/json")
    ctx.artefact.image_text = "\n".join(ln.text for ln in lines)
    flag_personal_details(ctx, "image_text", [(None, ctx.artefact.image_text)])


def flag_personal_details(ctx: StepContext, source: str, texts) -> None:
    """Replace the flags of one source with fresh ones: likely names, schools, streets and numbers to check."""
    from .personal_details import find_personal_details

    ctx.db.execute(delete(PersonalDetailFlag).where(
        PersonalDetailFlag.artefact_id == ctx.artefact.id, PersonalDetailFlag.source == source))
    for segment, text in texts:
        for detail in find_personal_details(text):
            ctx.db.add(PersonalDetailFlag(artefact_id=ctx.artefact.id, source=source, kind=detail.kind,
                                          segment_id=segment.id if segment is not None else None,
                                          start=detail.start, end=detail.end))


def transcribe(ctx: StepContext) -> None:
    """Transcribe the 16 kHz audio with Whisper into timed segments and WebVTT captions."""
    from media.backends import make_transcriber
    from media.transcribe import empty_transcript, to_webvtt

    existing = ctx.artefact.transcript
    if existing is not None and (existing.edited or any(s.locked for s in existing.segments)):
        raise StepSkipped("a person has corrected this transcript; it is not re-run")
    if existing is not None and any(r.source == "transcript" for r in redactions_of(ctx.db, ctx.artefact.id, "text")):
        raise StepSkipped("a person has hidden words in this transcript; it is not re-run")
    audio = ctx.derivative("audio_16k")
    if audio is None:
        result, model = empty_transcript(0.0), ""  # a video with no sound track: nothing to hear
    else:
        transcriber = make_transcriber(ctx.settings)
        result, model = transcriber.transcribe(ctx.fetch(audio.object_key, "audio.wav")), ctx.settings.whisper_model
    ctx.ensure_live()
    if existing is not None:
        ctx.db.delete(existing)
        ctx.db.flush()
    transcript = Transcript(artefact_id=ctx.artefact.id, language=result.language, duration=result.duration,
                            model_name=model, no_speech=result.flagged_no_speech)
    for position, segment in enumerate(result.segments):
        transcript.segments.append(TranscriptSegment(
            position=position, start=segment.start, end=segment.end, text=segment.text.strip(),
            confidence=segment.confidence,
            words=[{"start": w.start, "end": w.end, "text": w.text, "p": w.probability} for w in segment.words],
        ))
    ctx.db.add(transcript)
    ctx.db.flush()
    flag_personal_details(ctx, "transcript", [(seg, seg.text) for seg in transcript.segments])
    transcript.status = TranscriptStatus.READY_FOR_CHECK  # every machine transcript waits for a person's check
    captions = ctx.work / "captions.vtt"
    captions.write_text(to_webvtt(result), encoding="utf-8")
    ctx.store_derivative("captions", captions, "text/vtt")


def tag(ctx: StepContext) -> None:
    """Suggest themes from the story and transcript, with evidence and polarity; participants' own picks weigh in."""
    from .tagger import suggest_tags

    artefact = ctx.artefact
    framework = programme_framework(ctx.db.get(Programme, artefact.programme_id))
    picks = tuple(dict.fromkeys(t.theme for t in artefact.tags if t.source == TagSource.PARTICIPANT))
    story = "\n".join(p for p in (artefact.title, artefact.story, artefact.image_text) if p)
    flag_personal_details(ctx, "story", [(None, "\n".join(p for p in (artefact.title, artefact.story) if p))])
    segments = artefact.transcript.segments if artefact.transcript is not None else None
    suggestions = suggest_tags(story, framework, participant_themes=picks, segments=segments)
    ctx.ensure_live()
    ctx.db.execute(delete(ThemeTag).where(ThemeTag.artefact_id == artefact.id, ThemeTag.source == TagSource.MODEL))
    for s in suggestions:
        segment = segments[s.segment_index] if segments and s.segment_index is not None else None
        ctx.db.add(ThemeTag(
            artefact_id=artefact.id, framework=framework.code, theme=s.theme, source=TagSource.MODEL,
            confidence=s.confidence, evidence=s.evidence, evidence_start=s.evidence_start,
            evidence_end=s.evidence_end, segment_id=segment.id if segment is not None else None,
            polarity=s.polarity, status=TagStatus.SUGGESTED,
        ))


def index(ctx: StepContext) -> None:
    """Put the artefact in the search index (or keep it out, if its consent does not allow search)."""
    from search.backends import backend_for

    ctx.db.flush()
    ctx.db.refresh(ctx.artefact)
    ctx.ensure_live()
    backend_for(ctx.settings).index_artefact(ctx.db, ctx.artefact)


STEP_FUNCTIONS = {
    "derivatives": derivatives, "extract_text": extract_text, "transcribe": transcribe, "tag": tag, "index": index,
}
