"""Opening an index of a given kind: the one module that knows both implementations.

Kept apart from ``kb.search.backend`` (the contract both implementations
import), so the contract never imports what implements it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kb.search.backend import BACKEND_KINDS, SearchBackend
from kb.search.synonyms import SynonymSet


def open_backend(kind: str, path: Path, synonyms: SynonymSet | None = None, **options: Any) -> SearchBackend:
    """Open (or create) the index of ``kind`` at ``path``.

    ``options`` go to the backend (``lock_wait_seconds`` for both; tantivy
    also takes ``writer_heap_bytes`` and ``writer_threads``). Raises
    ``IndexCorrupt`` if an index exists there but cannot be opened,
    ``ValueError`` for an unknown kind.
    """
    synonyms = synonyms if synonyms is not None else SynonymSet.empty()
    if kind == "tantivy":
        from kb.search.tantivy_backend import TantivyBackend

        return TantivyBackend(Path(path), synonyms, **options)
    if kind == "whoosh":
        from kb.search.whoosh_backend import WhooshBackend

        return WhooshBackend(Path(path), synonyms, **options)
    raise ValueError(f"unknown search backend {kind!r}; expected one of {', '.join(BACKEND_KINDS)}")
