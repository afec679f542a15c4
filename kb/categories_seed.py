"""Reference data every installation has: the Art. 4 categories."""
from __future__ import annotations

from kb.services.categories import seed_categories


def ensure_seed_data(uow, clock) -> None:
    with uow:
        seed_categories(uow.session)
        uow.commit()
