"""Reference data every installation has: the Art. 4 categories and the starter synonym list."""
from __future__ import annotations

from importlib import resources

from sqlalchemy import select

from kb.models.search import SearchSettingsRevision
from kb.services.categories import seed_categories
from kb.services.search import import_synonyms


def ensure_seed_data(uow_factory, clock) -> None:
    with uow_factory() as uow:
        seed_categories(uow.session)
        synonyms_never_managed = uow.session.scalar(select(SearchSettingsRevision.id)) is None
        uow.commit()
    if synonyms_never_managed:
        starter = resources.files("kb.search").joinpath("synonyms_starter.txt").read_text(encoding="utf-8")
        import_synonyms(uow_factory(), None, text=starter, replace=False, now=clock())
