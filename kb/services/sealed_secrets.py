"""The secrets kept sealed in the database (kb.sealing): what a change of key has to reseal."""
from __future__ import annotations

from sqlalchemy import select

from kb.db import UnitOfWork
from kb.models import UnitRobot, WebhookSubscription
from kb.sealing import SecretBox

#: Every sealed column, as (model, attribute name).
SEALED_COLUMNS = ((WebhookSubscription, "sealed_secret"), (UnitRobot, "sealed_secret"))


def reseal_all(uow: UnitOfWork, secret_box: SecretBox) -> int:
    """Seal every stored secret again with the box's first key, in one transaction; returns how many.

    After it, the keys after the first can be dropped from KB_SECRETS_KEY. A secret no key opens stops
    it (SecretUnreadable) with nothing changed.
    """
    count = 0
    with uow:
        for model, name in SEALED_COLUMNS:
            column = getattr(model, name)
            for row in uow.session.scalars(select(model).where(column.is_not(None)).with_for_update()):
                setattr(row, name, secret_box.reseal(getattr(row, name)))
                count += 1
        uow.session.flush()
        uow.commit()
    return count
