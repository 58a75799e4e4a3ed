"""The openai-whisper backend, for real: tiny.en converted from its CTranslate2 weights, on jfk.flac.

Also the model.bin reader on small files written here, so its refusals are tested without torch.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import string
import struct
from pathlib import Path

import numpy as np
import pytest

from media import backends, convert, whisper_models
from media.whisper_models import ModelUnavailable
from tests.helpers import refuse_network
from tests.servers import unavailable

JFK = Path(__file__).parent / "data" / "jfk.flac"
JFK_TEXT = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
TINY_DIMS = {
    "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6, "n_audio_layer": 4,
    "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4,
}  # fmt: skip


def normalise(text: str) -> str:
    return " ".join(text.lower().translate(str.maketrans("", "", string.punctuation)).split())


@pytest.fixture(scope="session")
def whisper_module():
    try:
        import torch  # noqa: F401
        import whisper
    except ImportError:
        unavailable("torch and openai-whisper", "pip install -e '.[openai-whisper]'")
    return whisper


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("openai-whisper-cache")


@pytest.fixture(scope="session")
def tiny_checkpoint(whisper_module, cache_dir) -> Path:
    return convert.convert_registered("tiny.en", cache_dir, cache_dir / "tiny.en.pt")


@pytest.fixture(scope="session")
def tiny(tiny_checkpoint):
    from media.openai_backend import OpenAIWhisperTranscriber

    return OpenAIWhisperTranscriber(tiny_checkpoint)


@pytest.fixture(scope="session")
def jfk_run(tiny):
    """One transcription of jfk.flac (the slow part, ~5-10 s) shared by the assertions below."""
    fractions: list[float] = []
    return tiny.transcribe(JFK, progress=fractions.append), fractions


# --- conversion -----------------------------------------------------------------------------


def test_checkpoint_loads_with_whisper_load_model(whisper_module, tiny_checkpoint):
    model = whisper_module.load_model(str(tiny_checkpoint), device="cpu")
    assert vars(model.dims) == TINY_DIMS
    assert not model.is_multilingual


def test_checkpoint_layout_and_provenance(whisper_module, tiny_checkpoint):
    import torch

    checkpoint = torch.load(tiny_checkpoint, weights_only=True)
    assert checkpoint["dims"] == TINY_DIMS
    state = checkpoint["model_state_dict"]
    expected = whisper_module.model.Whisper(whisper_module.model.ModelDimensions(**TINY_DIMS)).state_dict()
    assert set(state) == set(expected)
    assert all(state[k].shape == expected[k].shape for k in expected)
    assert state["decoder.blocks.0.attn.query.weight"].dtype == torch.float16  # as stored, as OpenAI ships
    spec = whisper_models.get_spec("tiny.en")
    assert checkpoint["chorus"] == {"source_model": "tiny.en", "source_sha256": spec.files[0].sha256}


def test_alignment_heads_come_from_config(tiny_checkpoint, whisper_module, cache_dir):
    import torch

    def heads(dump) -> list[list[int]]:
        return np.argwhere(np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(4, 6)).tolist()

    dump = torch.load(tiny_checkpoint, weights_only=True)["alignment_heads"]
    config = json.loads((whisper_models.ensure_model("tiny.en", cache_dir) / "config.json").read_text())
    assert heads(dump) == config["alignment_heads"]
    # OpenAI's own table for tiny.en agrees with the one CTranslate2 carried over.
    assert heads(dump) == heads(whisper_module._ALIGNMENT_HEADS["tiny.en"])


def test_encoder_matches_ctranslate2(tiny, whisper_module, cache_dir):
    import ctranslate2
    import torch
    from faster_whisper import WhisperModel

    from media import audio

    samples = audio.load_audio(JFK)
    mel = whisper_module.log_mel_spectrogram(whisper_module.pad_or_trim(samples), n_mels=80)[None]
    with torch.no_grad():
        ours = tiny.model.encoder(mel).numpy()
    reference = WhisperModel(str(whisper_models.ensure_model("tiny.en", cache_dir)), compute_type="float32")
    theirs = np.array(reference.model.encode(ctranslate2.StorageView.from_array(mel.numpy()), to_cpu=True))
    assert np.abs(ours - theirs).max() < 1e-3


# --- transcription --------------------------------------------------------------------------


def test_jfk_words(jfk_run):
    result, _ = jfk_run
    assert normalise(result.text) == JFK_TEXT
    assert result.language == "en" and result.language_probability == 1.0
    assert not result.flagged_no_speech and result.duration == pytest.approx(11.0, abs=0.05)


def test_jfk_segments_words_and_confidence(jfk_run):
    result, _ = jfk_run
    for segment in result.segments:
        assert 0.0 <= segment.start < segment.end <= 11.0
        assert 0.5 < segment.confidence <= 1.0
        assert segment.words and segment.words[0].start == segment.start and segment.words[-1].end == segment.end
    words = [w for s in result.segments for w in s.words]
    assert normalise(" ".join(w.text for w in words)) == JFK_TEXT
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))


def test_progress_reports_start_and_end(jfk_run):
    _, fractions = jfk_run
    assert fractions == [0.0, 1.0]


def test_openai_whisper_never_runs_ffmpeg(tiny, monkeypatch):
    import whisper.audio

    def refuse(*args, **kwargs):
        raise AssertionError("openai-whisper tried to decode a file itself")

    monkeypatch.setattr(whisper.audio, "load_audio", refuse)
    monkeypatch.setattr(whisper.audio, "run", refuse)
    refuse_network(monkeypatch, "the openai-whisper backend")
    # A second of silence then the speech: VAD gaps must map back onto the recording's clock.
    from media import audio

    samples = np.concatenate([np.zeros(16000, np.float32), audio.load_audio(JFK)[: 16000 * 4]])
    result = tiny.transcribe(samples)
    assert "fellow americans" in normalise(result.text)
    assert result.segments[0].start >= 0.9 and result.duration == 5.0


def test_silence_gives_empty_flagged_transcript(tiny):
    result = tiny.transcribe(np.zeros(16000 * 3, np.float32))
    assert result.flagged_no_speech and result.segments == [] and result.language is None


def test_no_speech_rule(tiny):
    def raw(no_speech_prob: float, avg_logprob: float) -> dict:
        return {"text": " You", "no_speech_prob": no_speech_prob, "avg_logprob": avg_logprob}

    assert not tiny._is_speech(raw(0.72, -0.78))
    assert tiny._is_speech(raw(0.07, -0.3)) and tiny._is_speech(raw(0.9, -0.2))
    assert not tiny._is_speech({"text": "  ", "no_speech_prob": 0.0, "avg_logprob": 0.0})


# --- backend selection ----------------------------------------------------------------------


def test_make_transcriber_converts_a_registered_model_once(whisper_module, cache_dir, monkeypatch):
    refuse_network(monkeypatch, "converting and loading a registered model")
    first = backends.make_transcriber("tiny.en", backend="openai-whisper", cache_dir=cache_dir)
    path = convert.checkpoint_path("tiny.en", cache_dir)
    assert first.checkpoint == path and path.parent.name == "openai-whisper"
    written = path.stat().st_mtime_ns
    second = backends.make_transcriber("tiny.en", backend="openai-whisper", cache_dir=cache_dir)
    assert path.stat().st_mtime_ns == written and second.model is first.model


def test_make_transcriber_takes_a_users_checkpoint_file(tiny_checkpoint, cache_dir):
    chosen = backends.make_transcriber(str(tiny_checkpoint), backend="openai-whisper", cache_dir=cache_dir)
    assert chosen.checkpoint == tiny_checkpoint


def test_make_transcriber_from_settings(whisper_module, cache_dir):
    from archive.settings import load_settings

    settings = load_settings(whisper_model="tiny.en", whisper_backend="openai-whisper", data_dir=cache_dir)
    chosen = backends.make_transcriber(settings)
    assert chosen.checkpoint == convert.checkpoint_path("tiny.en", cache_dir / "models")
    default = backends.make_transcriber(load_settings(whisper_model="tiny.en", data_dir=cache_dir))
    assert type(default).__name__ == "FasterWhisperTranscriber"


def test_unknown_model_or_backend_is_refused(whisper_module, cache_dir):
    with pytest.raises(ModelUnavailable, match="neither a registered Whisper model"):
        backends.make_transcriber("large-v9", backend="openai-whisper", cache_dir=cache_dir)
    with pytest.raises(ModelUnavailable, match="no openai-whisper checkpoint"):
        from media.openai_backend import load_checkpoint

        load_checkpoint(cache_dir / "missing.pt")
    garbage = cache_dir / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelUnavailable, match="not a loadable openai-whisper checkpoint"):
        backends.make_transcriber(str(garbage), backend="openai-whisper", cache_dir=cache_dir)
    with pytest.raises(ValueError, match="unknown transcription backend"):
        backends.make_transcriber("tiny.en", backend="whisper.cpp", cache_dir=cache_dir)


# --- the model.bin reader, on files written here --------------------------------------------


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def _model_bin(variables: list[tuple[str, np.ndarray, int]], version: int = 6, aliases=()) -> bytes:
    out = struct.pack("<I", version) + _string("WhisperSpec") + struct.pack("<II", 3, len(variables))
    for name, array, type_id in variables:
        out += _string(name) + struct.pack("<B", array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape)
        out += struct.pack("<BI", type_id, array.nbytes) + array.tobytes()
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += _string(alias) + _string(target)
    return out


def test_reader_reads_shapes_types_and_aliases(tmp_path):
    weight = np.arange(6, dtype=np.float16).reshape(2, 3)
    heads = np.array(6, dtype=np.int16)
    # bfloat16 1.5 is 0x3FC0: the top half of float32 1.5.
    bf16 = np.array([0x3FC0, 0xC000], dtype=np.uint16)
    path = tmp_path / "model.bin"
    path.write_bytes(_model_bin([("a/weight", weight, 4), ("a/num_heads", heads, 2), ("b", bf16, 5)],
                                aliases=[("c", "a/weight")]))  # fmt: skip
    model = convert.read_model_bin(path)
    assert (model.spec, model.revision, model.aliases) == ("WhisperSpec", 3, {"c": "a/weight"})
    assert model.variables["a/weight"].dtype == np.float16 and (model.variables["a/weight"] == weight).all()
    assert int(model.variables["a/num_heads"]) == 6
    assert model.variables["b"].tolist() == [1.5, -2.0]


def test_reader_refuses_other_versions_and_truncated_files(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(_model_bin([], version=5))
    with pytest.raises(convert.ConversionError, match="format version 5"):
        convert.read_model_bin(path)
    path.write_bytes(_model_bin([("w", np.zeros((4, 4), np.float32), 0)])[:-40])
    with pytest.raises(convert.ConversionError, match="truncated"):
        convert.read_model_bin(path)


def test_quantised_weights_are_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes(_model_bin([("encoder/conv1/weight", np.zeros((4, 2, 3), np.int8), 1)]))
    with pytest.raises(convert.ConversionError, match="quantised"):
        convert.build_checkpoint(tmp_path)


def test_alignment_heads_outside_the_model_are_refused():
    with pytest.raises(convert.ConversionError, match="outside"):
        convert.alignment_heads_dump([[4, 0]], n_layer=4, n_head=6)
