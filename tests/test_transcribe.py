"""Real Whisper on real speech (jfk.flac, public domain), silence and noise; output formats."""

from __future__ import annotations

import json
import re
import string
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from media import audio, transcribe
from media.transcribe import FasterWhisperTranscriber, Segment, Transcript, Word

JFK = Path(__file__).parent / "data" / "jfk.flac"
JFK_SECONDS = 11.0


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("whisper-cache")


@pytest.fixture(scope="session")
def base(model_cache) -> FasterWhisperTranscriber:
    return transcribe.load_transcriber(cache_dir=model_cache)


@pytest.fixture(scope="session")
def jfk_run(base):
    """One transcription of jfk.flac shared by the assertions below (it is the slow part)."""
    fractions: list[float] = []
    result = base.transcribe(JFK, progress=fractions.append)
    return result, fractions


def normalise(text: str) -> str:
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return " ".join(text.split())


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


# --- speech ---------------------------------------------------------------------------------


def test_default_model_is_base(base, model_cache):
    assert base.model_dir == model_cache / "whisper" / "base"


def test_jfk_words(jfk_run):
    text = normalise(jfk_run[0].text)
    assert "ask not what your country can do for you" in text
    assert "ask what you can do for your country" in text
    assert text.startswith("and so my fellow americans")


def test_jfk_language_and_flags(jfk_run):
    result = jfk_run[0]
    assert result.language == "en"
    assert 0.5 < result.language_probability <= 1.0
    assert result.duration == pytest.approx(JFK_SECONDS, abs=0.05)
    assert not result.flagged_no_speech


def test_jfk_segment_timings_and_confidence(jfk_run):
    result = jfk_run[0]
    previous_end = 0.0
    for segment in result.segments:
        assert previous_end <= segment.start < segment.end <= result.duration + 0.01
        assert 0.0 < segment.confidence <= 1.0
        assert segment.text == segment.text.strip() and segment.text
        previous_end = segment.end


def test_jfk_word_timestamps(jfk_run):
    words = [w for s in jfk_run[0].segments for w in s.words]
    assert len(words) >= 20
    assert normalise(" ".join(w.text for w in words)) == normalise(jfk_run[0].text)
    for word in words:
        assert 0.0 <= word.start <= word.end <= jfk_run[0].duration + 0.01
        assert 0.0 <= word.probability <= 1.0
    starts = [w.start for w in words]
    assert starts == sorted(starts)


def test_progress_rises_to_one(jfk_run):
    fractions = jfk_run[1]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(set(fractions))
    assert len(fractions) >= 3  # start, at least one segment, done


def test_tiny_en_also_transcribes(model_cache):
    tiny = transcribe.load_transcriber("tiny.en", cache_dir=model_cache)
    result = tiny.transcribe(JFK)
    text = normalise(result.text)
    assert "ask not what your country can do for you" in text
    assert "ask what you can do for your country" in text
    assert result.language == "en"


def test_batched_pipeline_for_long_recordings(base):
    # The threshold is lowered so the 11 s clip takes the long-recording path cheaply.
    batched = FasterWhisperTranscriber(base.model_dir, batched_from_seconds=5.0)
    assert batched.model is base.model
    assert batched.uses_batched(JFK_SECONDS) and not base.uses_batched(JFK_SECONDS)
    result = batched.transcribe(JFK)
    assert "ask what you can do for your country" in normalise(result.text)
    assert all(s.words for s in result.segments)


def test_batched_decodes_again_what_a_chunk_left_unfinished(base):
    # jfk.flac three times, 0.3 s apart (33.6 s), makes a first chunk of 28 s. Whisper ends it
    # with the start timestamp of the third copy and no text, leaving that sentence to a next
    # window, which batched decoding does not have: faster-whisper alone loses 14 words here.
    samples = np.concatenate([audio.load_audio(JFK), np.zeros(4800, np.float32)] * 2 + [audio.load_audio(JFK)])
    from faster_whisper import BatchedInferencePipeline

    plain, _ = BatchedInferencePipeline(base.model).transcribe(
        samples, beam_size=5, word_timestamps=True, without_timestamps=False, condition_on_previous_text=False
    )
    assert normalise(" ".join(s.text for s in plain)).count("ask not what your country") < 3

    result = FasterWhisperTranscriber(base.model_dir, batched_from_seconds=5.0).transcribe(samples)
    text = normalise(result.text)
    assert text.count("and so my fellow americans ask not what your country can do for you") == 3
    assert text.count("ask what you can do for your country") == 3
    words = [w for s in result.segments for w in s.words]
    assert [w.start for w in words] == sorted(w.start for w in words)
    # The third copy's words keep their own times, not the chunk's start.
    assert 22.0 < words[-15].start < words[-1].end <= result.duration + 0.01


@pytest.mark.parametrize(
    ("tokens", "cut"),
    [
        ([100, 5, 6, 150, 150, 7, 8, 200], None),  # two segments, the last closed: finished
        ([100, 5, 6, 150, 160], 4),  # a segment opened at 160 with no text: left for a next window
        ([100, 5, 6, 150, 160, 7, 8], 4),  # the last segment's text has no end timestamp
        ([100, 5, 6, 7], None),  # no two timestamps in a row: one segment, kept whole
        ([], None),
    ],
)
def test_unfinished_from(tokens, cut):
    assert transcribe.unfinished_from(tokens, timestamp_begin=100) == cut


def test_splice_tail_moves_its_timestamps_and_stays_in_the_window():
    head = [100, 5, 6, 150]
    assert transcribe.splice_tail(head, [100, 7, 8, 130], shift=50, timestamp_begin=100) == [100, 5, 6, 150, 150, 7, 8, 180]
    # Timestamps stop at <|30.00|>, 1500 positions after <|0.00|>.
    assert transcribe.splice_tail(head, [100, 7, 1590], shift=50, timestamp_begin=100) == [*head, 150, 7, 1600]


def test_samples_array_input(base):
    samples = audio.load_audio(JFK)
    assert samples.dtype == np.float32 and len(samples) == pytest.approx(JFK_SECONDS * 16000, abs=160)
    result = base.transcribe(samples[: 16000 * 4], language="en")
    assert normalise(result.text).startswith("and so my fellow americans")


# --- no speech ------------------------------------------------------------------------------


def test_silence_gives_empty_flagged_transcript(base, tmp_path):
    silence = write_wav(tmp_path / "silence.wav", np.zeros(5 * 16000, dtype=np.float32))
    result = base.transcribe(silence)
    assert result.segments == [] and result.text == ""
    assert result.flagged_no_speech
    assert result.language is None
    assert result.duration == pytest.approx(5.0)


def test_low_noise_invents_no_text(base, tmp_path):
    noise = np.random.default_rng(7).normal(0.0, 0.005, 5 * 16000).astype(np.float32)
    result = base.transcribe(write_wav(tmp_path / "hiss.wav", noise))
    assert result.segments == [] and result.flagged_no_speech


def test_no_speech_filter_works_without_vad(base):
    # With VAD off Whisper answers digital silence with a low-confidence "You"; the
    # second defence must still drop it.
    raw = FasterWhisperTranscriber(base.model_dir, vad_filter=False)
    result = raw.transcribe(np.zeros(5 * 16000, dtype=np.float32))
    assert result.segments == [] and result.flagged_no_speech


@pytest.mark.parametrize(
    ("no_speech_prob", "avg_logprob", "kept"),
    [(0.07, -0.29, True), (0.72, -0.78, False), (0.9, -0.2, True), (0.3, -1.5, True), (0.61, -0.51, False)],
)
def test_no_speech_rule(base, no_speech_prob, avg_logprob, kept):
    raw = SimpleNamespace(text=" words", no_speech_prob=no_speech_prob, avg_logprob=avg_logprob, start=0.0, end=1.0)
    assert base._is_speech(raw) is kept


def test_confidence_mapping():
    assert transcribe.confidence_from_logprob(0.0) == 1.0
    assert transcribe.confidence_from_logprob(0.3) == 1.0
    assert transcribe.confidence_from_logprob(-0.29) == pytest.approx(0.748, abs=1e-3)
    assert transcribe.confidence_from_logprob(float("-inf")) == 0.0
    assert transcribe.confidence_from_logprob(float("nan")) == 0.0


def test_video_without_audio_track_is_no_speech(base, tmp_path):
    import av

    video = tmp_path / "diary.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    result = base.transcribe(video)
    assert result.flagged_no_speech and result.segments == [] and result.duration == 0.0


# --- input safety ---------------------------------------------------------------------------


def test_playlist_upload_is_refused(tmp_path):
    # An HLS playlist would make the decoder read whatever local file it names.
    playlist = tmp_path / "note.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:11\n#EXTINF:11,\n{JFK}\n#EXT-X-ENDLIST\n")
    with pytest.raises(audio.AudioDecodeError, match="hls"):
        audio.load_audio(playlist)


def test_garbage_file_is_a_decode_error(tmp_path):
    junk = tmp_path / "note.webm"
    junk.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(audio.AudioDecodeError):
        audio.load_audio(junk)


def test_stereo_array_is_rejected():
    with pytest.raises(audio.AudioDecodeError, match="mono"):
        audio.load_audio(np.zeros((2, 16000), dtype=np.float32))


# --- output formats -------------------------------------------------------------------------

CUE_TIMING = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$")


def parse_webvtt(text: str) -> list[tuple[float, float, str]]:
    """A strict little reader: header, blank line, then id / timing / text cue blocks."""
    assert text.startswith("WEBVTT\n\n") or text == "WEBVTT\n"
    cues = []
    for block in [b for b in text.split("\n\n")[1:] if b.strip()]:
        lines = block.strip("\n").split("\n")
        match = CUE_TIMING.match(lines[1])
        assert match, lines
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        assert end > start
        cues.append((start, end, "\n".join(lines[2:])))
    return cues


def test_webvtt_of_real_transcript(jfk_run):
    cues = parse_webvtt(transcribe.to_webvtt(jfk_run[0]))
    assert len(cues) == len(jfk_run[0].segments)
    assert "ask not what your country" in normalise(" ".join(c[2] for c in cues))


def test_webvtt_escapes_and_formats_long_times():
    segment = Segment(3725.5, 3727.25, "<b>Tom & Jerry</b> -->\n\nnext", 0.8, [])
    vtt = transcribe.to_webvtt(Transcript("en", 1.0, 3800.0, [segment], False))
    ((start, end, text),) = parse_webvtt(vtt)
    assert (start, end) == (3725.5, 3727.25)
    assert "01:02:05.500 --> 01:02:07.250" in vtt
    assert text == "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; --&gt; next"


def test_webvtt_of_empty_transcript():
    assert parse_webvtt(transcribe.to_webvtt(transcribe.empty_transcript(5.0))) == []


def test_json_contract(jfk_run):
    data = json.loads(transcribe.to_json(jfk_run[0], file="jfk.flac"))
    assert set(data) == {"file", "language", "duration", "text", "segments"}
    assert data["file"] == "jfk.flac" and data["language"] == "en"
    assert data["duration"] == pytest.approx(JFK_SECONDS, abs=0.05)
    assert normalise(data["text"]) == normalise(jfk_run[0].text)
    for item in data["segments"]:
        assert set(item) == {"start", "end", "text", "confidence"}
        assert all(isinstance(item[k], float) for k in ("start", "end", "confidence"))


def test_json_of_no_speech_and_unicode():
    empty = json.loads(transcribe.to_json(transcribe.empty_transcript(5.0), file=None))
    assert empty == {"file": None, "language": None, "duration": 5.0, "text": "", "segments": []}
    word = Word(0.0, 0.5, "café", 0.9)
    spoken = Transcript("fr", 0.9, 1.0, [Segment(0.0, 0.5, "café", 0.9, [word])], False)
    assert '"text": "café"' in transcribe.to_json(spoken, file="a.webm")
