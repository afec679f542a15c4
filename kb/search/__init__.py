"""Knowledge search: the index, the Chinese analyzer, synonyms.

The interface and its data types live in ``kb.search.backend``; open an index
with ``kb.search.factory.open_backend(kind, path, synonyms)``. See docs/search.md.
"""
from kb.search.backend import (
    BACKEND_KINDS,
    DEFAULT_BACKEND,
    IndexBusy,
    IndexCorrupt,
    SearchBackend,
    SearchDocument,
    SearchHit,
    SearchIndexError,
    SearchQuery,
    SearchResult,
)
from kb.search.factory import open_backend

__all__ = [
    "BACKEND_KINDS",
    "DEFAULT_BACKEND",
    "IndexBusy",
    "IndexCorrupt",
    "SearchBackend",
    "SearchDocument",
    "SearchHit",
    "SearchIndexError",
    "SearchQuery",
    "SearchResult",
    "open_backend",
]
