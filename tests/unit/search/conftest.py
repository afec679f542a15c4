from __future__ import annotations

from collections.abc import Iterator

import pytest

import kb_search_corpus as corpus
from kb.search.backend import SearchBackend
from kb.search.factory import open_backend
from kb.search.synonyms import SynonymSet

BACKENDS = ("tantivy", "whoosh")


@pytest.fixture(scope="session")
def starter_synonyms() -> SynonymSet:
    return SynonymSet.starter()


@pytest.fixture(scope="module", params=BACKENDS)
def loaded_backend(request, tmp_path_factory, starter_synonyms) -> Iterator[SearchBackend]:
    """A backend holding the whole fixture corpus; tests using it must not write."""
    path = tmp_path_factory.mktemp(f"loaded-{request.param}")
    backend = open_backend(request.param, path, starter_synonyms)
    backend.upsert(corpus.all_documents())
    backend.commit(1)
    yield backend
    backend.close()


@pytest.fixture(params=BACKENDS)
def backend_kind(request) -> str:
    return request.param


@pytest.fixture
def fresh_backend(backend_kind, tmp_path, starter_synonyms) -> Iterator[SearchBackend]:
    """An empty backend of each kind on its own directory."""
    backend = open_backend(backend_kind, tmp_path / "index", starter_synonyms)
    yield backend
    backend.close()
