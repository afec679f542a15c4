"""The vectors of published entries' phrasings, beside the lexical index of one generation.

Layout of ``<generation>/vectors/``:

===================  ==========================================================
``state.json``       embedder name, dimensions, applied outbox sequence, and the
                     names of the base and delta files in use; replaced
                     atomically (``os.replace``), so a reader sees one state
``base-*.usearch``   an HNSW graph (usearch, int8-quantized, cosine) of every
                     phrasing at the last rebuild or compaction; opened
                     memory-mapped (``view``), so a host's workers share it
``delta-*.npz``      float32 vectors of the entries changed since the base, and
                     the ids of every entry changed or deleted since (their
                     base rows no longer count); searched exactly
===================  ==========================================================

A phrasing's key is ``entry_id * 64 + phrasing`` (0 the question, then the
similar questions; at most 64), so a match names its entry and the phrasing
that matched without a side table.

Writers (catching up on the outbox, a rebuild) hold ``.vectors.lock``; each
write makes new files and then replaces ``state.json``, so a crash leaves the
previous state whole. The vectors follow the outbox on their own sequence: a
process that died between the lexical commit and this one leaves them behind,
and the next catch-up brings them level. When the delta passes
``COMPACT_ROWS``, the writer folds it into a new base (load, remove, add,
save: well under a second at 100k entries).
"""
from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.search.backend import IndexCorrupt
from kb.search.locking import WriterLock

STATE_NAME = "state.json"
LOCK_NAME = ".vectors.lock"
PHRASINGS_PER_ENTRY = 64
MAX_PHRASINGS = PHRASINGS_PER_ENTRY - 1
COMPACT_ROWS = 5000  # delta rows searched exactly: ~10 MB, ~1 ms; past it the delta joins the base
ENCODE_BATCH = 512
# HNSW settings: usearch's defaults (16 / 128 / 64); expansion_search 64 finds the exact top 50 for
# nearly every query on the development sets and costs ~0.5 ms at 300k phrasings.
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 96

Encode = Callable[[Sequence[str]], np.ndarray]
EntryPhrasings = tuple[int, Sequence[str]]  # entry id, its question then its similar questions


def keys_for(entry_id: int, count: int) -> np.ndarray:
    return np.arange(count, dtype=np.uint64) + np.uint64(int(entry_id) * PHRASINGS_PER_ENTRY)


def _new_graph(dimensions: int) -> Any:
    from usearch.index import Index

    return Index(ndim=dimensions, metric="cos", dtype="i8", connectivity=CONNECTIVITY,
                 expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)


def _phrasings(phrases: Sequence[str]) -> list[str]:
    return [" ".join((p or "").split()) for p in list(phrases)[:MAX_PHRASINGS]]


class VectorStore:
    """One generation's vectors: readers search, one writer at a time adds (see the module's docstring)."""

    def __init__(self, folder: Path, lock_wait_seconds: float = 2.0) -> None:
        self.folder = Path(folder)
        self._lock = WriterLock(self.folder, lock_wait_seconds, LOCK_NAME) if self.folder.is_dir() else None
        self._lock_wait = lock_wait_seconds
        self._stamp: tuple[int, int] | None = None
        self._state: dict[str, Any] | None = None
        self._base: Any = None
        self._delta_keys = np.zeros(0, dtype=np.uint64)
        self._delta_vectors: np.ndarray | None = None
        self._superseded: frozenset[int] = frozenset()
        self._mutex = threading.Lock()

    # -- reading -------------------------------------------------------------
    def exists(self) -> bool:
        return (self.folder / STATE_NAME).is_file()

    def refresh(self) -> None:
        """Load the state another process committed, if it changed (one ``stat`` when it did not)."""
        try:
            stat = os.stat(self.folder / STATE_NAME)
        except FileNotFoundError:
            return
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp == self._stamp:
            return
        with self._mutex:
            if stamp != self._stamp:
                self._load()
                self._stamp = stamp

    def _load(self) -> None:
        for _ in range(3):
            try:
                return self._load_once()
            except FileNotFoundError:  # a writer replaced the state and removed the files it named meanwhile
                continue
        raise IndexCorrupt(f"the vectors in {self.folder} keep changing under the reader")

    def _load_once(self) -> None:
        try:
            state = json.loads((self.folder / STATE_NAME).read_text(encoding="utf-8"))
            base = None
            if state.get("base"):
                from usearch.index import Index

                path = self.folder / state["base"]
                if not path.exists():
                    raise FileNotFoundError(path)
                base = Index.restore(str(path), view=True)
                if base is None:
                    raise ValueError(f"{state['base']} is not a usearch index")
                base.expansion_search = EXPANSION_SEARCH  # type: ignore[misc]  # a setter at run time
            superseded: frozenset[int] = frozenset()
            keys, vectors = np.zeros(0, dtype=np.uint64), None
            if state.get("delta"):
                with np.load(self.folder / state["delta"], allow_pickle=False) as delta:
                    keys = delta["keys"].astype(np.uint64)
                    vectors = delta["vectors"].astype(np.float32)
                    superseded = frozenset(int(i) for i in delta["superseded"])
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise IndexCorrupt(f"the vectors in {self.folder} cannot be read: {exc}") from exc
        self._state, self._base = state, base
        self._delta_keys, self._delta_vectors, self._superseded = keys, vectors, superseded

    def _current(self) -> dict[str, Any]:
        self.refresh()
        return self._state or {}

    def applied_sequence(self) -> int:
        return int(self._current().get("applied_sequence", 0))

    def embedder_name(self) -> str | None:
        return self._current().get("embedder")

    def size(self) -> int:
        """Phrasings searchable (the base's superseded rows excluded)."""
        self.refresh()
        with self._mutex:
            base = len(self._base) if self._base is not None else 0
            return base + len(self._delta_keys)

    def check(self) -> None:
        if not self.exists():
            raise IndexCorrupt(f"no vectors in {self.folder}")
        self._stamp = None
        self.refresh()

    def nearest(self, vector: np.ndarray, limit: int) -> list[tuple[int, float, int]]:
        """(entry id, cosine similarity, phrasing) of the ``limit`` nearest entries, nearest first.

        Approximate over the base (HNSW), exact over the delta; an entry counts by its best phrasing.
        """
        self.refresh()
        with self._mutex:
            base, keys, vectors, superseded = self._base, self._delta_keys, self._delta_vectors, self._superseded
        wanted = limit * 2  # several phrasings of one entry, and superseded rows, take places
        found_keys: list[np.ndarray] = []
        found_similarities: list[np.ndarray] = []
        if base is not None and len(base):
            found = base.search(vector, min(wanted + len(superseded), len(base)))
            base_keys = np.asarray(found.keys, dtype=np.int64)
            current = ~np.isin(base_keys // PHRASINGS_PER_ENTRY, np.fromiter(superseded, dtype=np.int64,
                                                                          count=len(superseded)))
            found_keys.append(base_keys[current])
            found_similarities.append(1.0 - np.asarray(found.distances, dtype=np.float64)[current])
        if vectors is not None and len(keys):
            similarities = vectors @ vector
            top = np.argsort(-similarities)[:wanted]
            found_keys.append(np.asarray(keys, dtype=np.int64)[top])
            found_similarities.append(similarities[top].astype(np.float64))
        if not found_keys:
            return []
        all_keys, all_similarities = np.concatenate(found_keys), np.concatenate(found_similarities)
        entries, phrasings = np.divmod(all_keys, PHRASINGS_PER_ENTRY)
        # an entry counts by its best phrasing; nearest first, ties by entry id
        order = np.lexsort((phrasings, entries, -all_similarities))
        _, first = np.unique(entries[order], return_index=True)
        best = order[np.sort(first)][:limit]
        return [(int(entries[i]), float(all_similarities[i]), int(phrasings[i])) for i in best]

    # -- writing -------------------------------------------------------------
    def _writer_lock(self, wait_seconds: float | None = None) -> WriterLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            self._lock = WriterLock(self.folder, self._lock_wait, LOCK_NAME)
        if wait_seconds is not None:
            self._lock.wait_seconds = wait_seconds
        return self._lock

    def build(self, entries: Iterable[EntryPhrasings], encode: Encode, embedder_name: str, dimensions: int,
              applied_sequence: int, threads: int = 0) -> int:
        """Write a new base of every entry's phrasings (a rebuild); returns how many phrasings."""
        keys, vectors = encode_entries(entries, encode, dimensions, batch=None)
        lock = self._writer_lock()
        lock.acquire()
        try:
            graph = _new_graph(dimensions)
            if len(keys):
                graph.add(keys, vectors, threads=threads)
            base = self._save_graph(graph)
            self._write_state({"embedder": embedder_name, "dimensions": dimensions,
                               "applied_sequence": int(applied_sequence), "base": base, "delta": None})
        finally:
            lock.release()
        return len(keys)

    def apply(self, entries: Sequence[EntryPhrasings], deleted: Iterable[int], encode: Encode,
              applied_sequence: int, wait_seconds: float | None = None) -> None:
        """Replace the vectors of ``entries``, drop those of ``deleted``, record the sequence (``IndexBusy``
        if another writer holds the lock longer than ``wait_seconds``)."""
        lock = self._writer_lock(wait_seconds)
        lock.acquire()
        try:
            self._stamp = None
            self.refresh()  # the state as last committed, by anyone
            state = dict(self._state or {})
            if not state:
                raise IndexCorrupt(f"no vectors in {self.folder} to apply changes to")
            if int(state.get("applied_sequence", 0)) >= applied_sequence:
                return  # another process applied it
            changed = {int(e) for e, _ in entries} | {int(i) for i in deleted}
            new_keys, new_vectors = encode_entries(entries, encode, int(state["dimensions"]))
            keep = np.array([int(k) // PHRASINGS_PER_ENTRY not in changed for k in self._delta_keys], dtype=bool)
            old_vectors = (self._delta_vectors if self._delta_vectors is not None
                           else np.zeros((0, int(state["dimensions"])), dtype=np.float32))
            keys = np.concatenate([self._delta_keys[keep] if len(keep) else self._delta_keys, new_keys])
            vectors = np.concatenate([old_vectors[keep] if len(keep) else old_vectors, new_vectors])
            superseded = self._superseded | changed
            if len(keys) > COMPACT_ROWS:
                state["base"] = self._compact(state, keys, vectors, superseded)
                state["delta"], old_delta = None, state.get("delta")
            else:
                state["delta"], old_delta = self._save_delta(keys, vectors, superseded), state.get("delta")
            state["applied_sequence"] = int(applied_sequence)
            old_base = self._state.get("base") if self._state else None
            self._write_state(state)
            self._remove_unused(state, (old_delta, old_base))
        finally:
            lock.release()

    def _compact(self, state: dict[str, Any], keys: np.ndarray, vectors: np.ndarray,
                 superseded: frozenset[int]) -> str:
        from usearch.index import Index

        graph = Index.restore(str(self.folder / state["base"])) if state.get("base") else None
        graph = graph if graph is not None else _new_graph(int(state["dimensions"]))
        if superseded and len(graph):
            gone = np.concatenate([keys_for(entry, PHRASINGS_PER_ENTRY) for entry in sorted(superseded)])
            graph.remove(gone[np.fromiter((graph.contains(k) for k in gone), dtype=bool, count=len(gone))])
        if len(keys):
            graph.add(keys, vectors)
        return self._save_graph(graph)

    def _save_graph(self, graph: Any) -> str:
        name = f"base-{secrets.token_hex(6)}.usearch"
        temporary = self.folder / f".{name}.tmp"
        graph.save(str(temporary))
        _fsync_file(temporary)
        os.replace(temporary, self.folder / name)
        return name

    def _save_delta(self, keys: np.ndarray, vectors: np.ndarray, superseded: frozenset[int]) -> str:
        name = f"delta-{secrets.token_hex(6)}.npz"
        temporary = self.folder / f".{name}.tmp"
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=keys.astype(np.uint64), vectors=vectors.astype(np.float32),
                     superseded=np.array(sorted(superseded), dtype=np.int64))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / name)
        return name

    def _write_state(self, state: dict[str, Any]) -> None:
        temporary = self.folder / f".{STATE_NAME}.{os.getpid()}.{threading.get_ident()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / STATE_NAME)
        _fsync_directory(self.folder)
        self._stamp = None
        self.refresh()

    def _remove_unused(self, state: dict[str, Any], names: Iterable[str | None]) -> None:
        """Drop files the new state no longer names. A reader that opened them keeps its mapping (POSIX)."""
        in_use = {state.get("base"), state.get("delta")}
        for name in names:
            if name and name not in in_use:
                try:
                    os.remove(self.folder / name)
                except FileNotFoundError:
                    pass

    def close(self) -> None:
        with self._mutex:
            self._base = None
            self._delta_vectors = None


def encode_entries(entries: Iterable[EntryPhrasings], encode: Encode, dimensions: int,
                   batch: int | None = ENCODE_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """Keys and vectors of every phrasing of ``entries``; a phrasing said twice is encoded once.
    ``batch`` None: ``encode`` gets every text at once (it spreads them over processes)."""
    keys: list[np.ndarray] = []
    texts: list[str] = []
    for entry_id, phrases in entries:
        cleaned = _phrasings(phrases)
        keys.append(keys_for(entry_id, len(cleaned)))
        texts.extend(cleaned)
    unique = list(dict.fromkeys(texts))
    vectors = np.zeros((len(unique), dimensions), dtype=np.float32)
    step = batch or max(1, len(unique))
    for start in range(0, len(unique), step):
        vectors[start:start + step] = encode(unique[start:start + step])
    position = {text: i for i, text in enumerate(unique)}
    rows = np.fromiter((position[t] for t in texts), dtype=np.int64, count=len(texts))
    all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
    return all_keys, vectors[rows] if len(rows) else np.zeros((0, dimensions), dtype=np.float32)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
