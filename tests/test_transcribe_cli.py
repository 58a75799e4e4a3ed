"""`chorus transcribe` and `chorus models`, run through click with real models on jfk.flac."""

from __future__ import annotations

import json
import re
import string
import wave
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from media import convert, whisper_models
from media.cli import models, transcribe
from tests.servers import unavailable

JFK = Path(__file__).parent / "data" / "jfk.flac"
JFK_TEXT = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
CONTRACT = {"file", "language", "duration", "text", "segments"}
SEGMENT_CONTRACT = {"start", "end", "text", "confidence"}
CUE_TIMING = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$")


@click.group()
def chorus():
    """Stands in for archive.cli.main, which registers the same command objects."""


chorus.add_command(models)
chorus.add_command(transcribe)


def normalise(text: str) -> str:
    return " ".join(text.lower().translate(str.maketrans("", "", string.punctuation)).split())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One data folder for the module, so base is joined once (as a worker would have done)."""
    return tmp_path_factory.mktemp("cli-data")


@pytest.fixture
def run(data_dir):
    runner = CliRunner()

    def invoke(*args: str, data: Path = data_dir):
        return runner.invoke(chorus, list(args), env={"CHORUS_DATA_DIR": str(data)}, catch_exceptions=False)

    return invoke


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


# --- chorus transcribe ----------------------------------------------------------------------


def test_json_is_exactly_the_contract(run):
    result = run("transcribe", str(JFK), "--format", "json")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1  # one object per file, one file per line
    obj = json.loads(lines[0])
    assert set(obj) == CONTRACT
    assert obj["file"] == str(JFK) and obj["language"] == "en" and obj["duration"] == 11.0
    assert normalise(obj["text"]) == JFK_TEXT
    assert obj["segments"] and all(set(s) == SEGMENT_CONTRACT for s in obj["segments"])
    assert all(0 <= s["start"] < s["end"] <= 11.0 and 0 < s["confidence"] <= 1 for s in obj["segments"])


def test_vtt_is_valid_webvtt(run):
    result = run("transcribe", str(JFK), "--format", "vtt", "--model", "tiny.en")
    assert result.exit_code == 0, result.output
    header, *cues = result.stdout.strip().split("\n\n")
    assert header == "WEBVTT"
    texts = []
    for number, cue in enumerate(cues, start=1):
        identifier, timing, text = cue.split("\n")
        assert identifier == str(number) and CUE_TIMING.match(timing) and "-->" not in text
        texts.append(text)
    assert "ask not what your country" in normalise(" ".join(texts))


def test_txt_is_the_plain_text(run):
    result = run("transcribe", str(JFK), "--model", "tiny.en")
    assert result.exit_code == 0, result.output
    assert normalise(result.stdout) == JFK_TEXT


def test_missing_file_is_a_usage_error(run, tmp_path):
    result = run("transcribe", str(tmp_path / "nope.m4a"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_web_page_is_refused_and_other_files_still_done(run, tmp_path):
    page = tmp_path / "note.m4a"
    page.write_text("<!doctype html><html><body>not a recording</body></html>")
    alone = run("transcribe", str(page))
    assert alone.exit_code == 1 and "web page" in alone.stderr and alone.stdout == ""
    both = run("transcribe", str(page), str(JFK), "--model", "tiny.en", "--format", "json")
    assert both.exit_code == 1 and f"{page}:" in both.stderr
    [line] = both.stdout.splitlines()
    assert json.loads(line)["file"] == str(JFK)


def test_several_files_give_one_json_object_each(run, tmp_path):
    silence = write_wav(tmp_path / "quiet.wav", np.zeros(16000 * 2, np.float32))
    result = run("transcribe", str(JFK), str(silence), "--model", "tiny.en", "--format", "json")
    assert result.exit_code == 0, result.output
    speech, quiet = (json.loads(line) for line in result.stdout.splitlines())
    assert normalise(speech["text"]) == JFK_TEXT
    assert quiet == {"file": str(silence), "language": None, "duration": 2.0, "text": "", "segments": []}
    assert "no speech detected" in result.stderr


def test_unknown_model_says_which_exist(run):
    result = run("transcribe", str(JFK), "--model", "huge")
    assert result.exit_code == 1 and "unknown Whisper model 'huge'" in result.stderr and "tiny.en" in result.stderr


def test_transcribe_stores_nothing(run, data_dir):
    run("models")  # settings create the instance secret on first use; that is not a transcript
    before = sorted(p.relative_to(data_dir) for p in data_dir.rglob("*"))
    assert run("transcribe", str(JFK), "--model", "tiny.en").exit_code == 0
    after = sorted(p.relative_to(data_dir) for p in data_dir.rglob("*"))
    assert after == before


# --- chorus models --------------------------------------------------------------------------


def test_models_lists_base_and_tiny_en_with_checks_ok(run, data_dir):
    whisper_models.ensure_model("base", data_dir / "models")  # what the first transcription does
    for args in (("models", "--json"), ("models", "list", "--json", "--verify")):
        result = run(*args)
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        rows = {row["name"]: row for row in report["models"]}
        assert {"base", "tiny.en"} <= set(rows)
        for name in ("base", "tiny.en"):
            assert rows[name]["installed"] and rows[name]["verified"] and rows[name]["check"] == "ok"
            assert rows[name]["problem"] is None and Path(rows[name]["path"]).is_dir()
        assert rows["base"]["configured"] and rows["base"]["languages"] == 99
        assert report["backend"] == "faster-whisper" and report["backends"]["faster-whisper"]


def test_models_text_and_an_unassembled_model(run, tmp_path):
    result = run("models", data=tmp_path / "fresh")
    assert result.exit_code == 0, result.output
    assert re.search(r"^base \*\s+not assembled", result.stdout, re.MULTILINE)
    assert re.search(r"^tiny\.en\s+ok", result.stdout, re.MULTILINE)
    assert not (tmp_path / "fresh" / "models").exists()  # listing never joins or writes


def test_models_convert_writes_a_loadable_checkpoint(run, tmp_path):
    try:
        import whisper
    except ImportError:
        unavailable("torch and openai-whisper", "pip install -e '.[openai-whisper]'")
    out = tmp_path / "OUT.pt"
    result = run("models", "convert", "tiny.en", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"model": "tiny.en", "path": str(out), "size_bytes": out.stat().st_size}
    model = whisper.load_model(str(out), device="cpu")
    assert model.dims.n_text_layer == 4 and model.dims.n_vocab == 51864
    assert [p.name for p in tmp_path.iterdir()] == ["OUT.pt"]  # no temporary file left behind


def test_models_convert_default_path_is_what_the_backend_loads(run, data_dir):
    try:
        import torch  # noqa: F401
    except ImportError:
        unavailable("torch", "pip install -e '.[openai-whisper]'")
    result = run("models", "convert", "tiny.en")
    assert result.exit_code == 0, result.output
    assert str(convert.checkpoint_path("tiny.en", data_dir / "models")) in result.stdout
    listed = {row["name"]: row for row in json.loads(run("models", "--json").stdout)["models"]}
    assert listed["tiny.en"]["openai_whisper_checkpoint"] == str(
        convert.checkpoint_path("tiny.en", data_dir / "models")
    )


def test_models_convert_unknown_model(run, tmp_path):
    result = run("models", "convert", "huge", str(tmp_path / "x.pt"))
    assert result.exit_code == 1 and "unknown Whisper model" in result.stderr


def test_transcribe_with_the_openai_whisper_backend(run):
    try:
        import whisper  # noqa: F401
    except ImportError:
        unavailable("torch and openai-whisper", "pip install -e '.[openai-whisper]'")
    result = run("transcribe", str(JFK), "--backend", "openai-whisper", "--model", "tiny.en", "--format", "json")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    assert set(obj) == CONTRACT and normalise(obj["text"]) == JFK_TEXT


def test_models_exits_1_when_an_installed_model_fails_its_checks(run, tmp_path):
    data = tmp_path / "damaged"
    folder = whisper_models.ensure_model("base", data / "models")
    with open(folder / "config.json", "a", encoding="utf-8") as fh:
        fh.write(" ")
    result = run("models", "--json", data=data)
    assert result.exit_code == 1
    rows = {row["name"]: row for row in json.loads(result.stdout)["models"]}
    assert rows["base"]["check"] == "failed" and "config.json" in rows["base"]["problem"]
    assert rows["tiny.en"]["check"] == "ok"


def test_registered_on_the_chorus_command(data_dir):
    from archive.cli import main

    result = CliRunner().invoke(main, ["models", "--json"], env={"CHORUS_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert {"base", "tiny.en"} <= {row["name"] for row in json.loads(result.stdout)["models"]}
    assert main.get_command(None, "transcribe") is transcribe
