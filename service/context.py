"""What the HTTP layer hands to use cases: units of work, the clock, settings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kb.db import UnitOfWork

SHANGHAI = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class KbContext:
    engine: Engine
    session_factory: Callable[[], Session]
    clock: Callable[[], datetime] = system_clock
    settings: dict[str, Any] = field(default_factory=dict)
    search: Any = None  # kb.search.sync.SearchIndex
    search_log: Any = None  # kb.services.search.SearchLogBuffer
    attachments: Any = None  # kb.storage.BlobStore: where attachment files live

    def uow(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=write)

    def reader(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=False)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """The calendar day in Asia/Shanghai: what "in effect today" means to a citizen."""
        return self.clock().astimezone(SHANGHAI).date()
