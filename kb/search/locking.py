"""The single-writer lock shared by both backends: ``<index>/.writer.lock``.

An exclusive ``flock`` held from the first buffered change until commit or
rollback. The same kind of lock, on ``<index folder>/.rebuild.lock``, lets one
process of a host rebuild the index at a time (``kb.search.sync``). ``flock`` locks belong to the open file, so the kernel releases
them when a process dies: a crashed writer never leaves a stale lock behind.
Readers do not take it.
"""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from kb.search.backend import IndexBusy

LOCK_NAME = ".writer.lock"
DEFAULT_WAIT_SECONDS = 2.0


class WriterLock:
    def __init__(self, directory: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS, name: str = LOCK_NAME) -> None:
        self.path = Path(directory) / name
        self.wait_seconds = wait_seconds
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise IndexBusy(f"another writer holds {self.path}") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
