"""Search log rows reach the database soon after a search, even when no other search follows."""
from __future__ import annotations

import os
import threading
import time

from kb.services.search import SearchLogBuffer


class RecordingUow:
    """Stands in for the unit of work: keeps what was committed, can be told to fail."""

    def __init__(self, store):
        self.store = store
        self.session = self
        self._added = []
        store["attempts"] = store.get("attempts", 0) + 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement, rows):  # insert(SearchLog) with a list of row dicts
        self._added.extend(rows)

    def commit(self):
        self.store["release"].wait(5)  # a database write lock held elsewhere, when a test says so
        if self.store["fail"]:
            raise ConnectionError("database away")
        self.store["rows"].extend(self._added)


def recording_factory():
    store = {"rows": [], "fail": False, "release": threading.Event()}
    store["release"].set()
    return store, (lambda write=True: RecordingUow(store))


def row(n: int) -> dict:
    return {"search_key": f"k{n}", "query": f"社保{n}", "query_key": f"社保{n}", "mode": "query"}


def wait_for(condition, seconds: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.01)
    return time.monotonic() - started


def test_a_lone_row_is_written_within_max_age_without_another_search():
    store, factory = recording_factory()
    buffer = SearchLogBuffer(factory, max_rows=100, max_age_s=0.2)
    buffer.add(row(1))
    assert store["rows"] == []  # not written by the search itself
    waited = wait_for(lambda: len(store["rows"]) == 1, seconds=2.0)
    assert 0.1 <= waited < 1.0
    assert buffer.pending() == 0
    buffer.add(row(2))  # and again after an idle spell
    wait_for(lambda: len(store["rows"]) == 2, seconds=2.0)


def test_a_full_batch_is_written_at_once_without_waiting_for_max_age():
    store, factory = recording_factory()
    buffer = SearchLogBuffer(factory, max_rows=3, max_age_s=60)
    for n in range(3):
        buffer.add(row(n))
    wait_for(lambda: len(store["rows"]) == 3, seconds=2.0)
    assert buffer.pending() == 0


def test_the_search_that_fills_a_batch_does_not_wait_for_its_write():
    store, factory = recording_factory()
    store["release"].clear()  # the database's write lock is held elsewhere
    buffer = SearchLogBuffer(factory, max_rows=3, max_age_s=60)
    started = time.monotonic()
    for n in range(3):
        buffer.add(row(n))
    assert time.monotonic() - started < 0.5
    wait_for(lambda: store.get("attempts", 0) == 1, seconds=2.0)  # the write is under way, and waits
    buffer.add(row(3))  # a search meanwhile does not wait either
    assert time.monotonic() - started < 0.5
    assert store["rows"] == []
    store["release"].set()
    wait_for(lambda: len(store["rows"]) == 3, seconds=2.0)


def test_told_to_the_search_that_fills_a_batch_writes_it_itself_and_never_the_thread():
    store, factory = recording_factory()
    writers = []

    class SlowSearch(SearchLogBuffer):
        def flush(self):
            writers.append(threading.current_thread())
            if threading.current_thread() is threading.main_thread():
                time.sleep(0.2)  # the search is slow to get to its write: the thread has every chance
            super().flush()

    buffer = SlowSearch(factory, max_rows=1, max_age_s=60, full_batch_in_background=False)
    for n in range(3):
        buffer.add(row(n))
        assert len(store["rows"]) == n + 1  # written by the search, before it returns
    assert writers == [threading.main_thread()] * 3


def test_flush_at_exit_writes_what_is_buffered():
    store, factory = recording_factory()
    buffer = SearchLogBuffer(factory, max_rows=100, max_age_s=60)
    buffer.add(row(1))
    buffer.flush()
    assert len(store["rows"]) == 1


def test_rows_survive_a_failed_write_and_go_out_with_the_next_one():
    store, factory = recording_factory()
    buffer = SearchLogBuffer(factory, max_rows=2, max_age_s=0.2)
    store["fail"] = True
    buffer.add(row(1))
    buffer.add(row(2))  # fills the batch; the write fails, and no search sees it
    wait_for(lambda: store.get("attempts", 0) >= 1 and buffer.pending() == 2, seconds=2.0)
    assert store["rows"] == []
    time.sleep(0.05)
    assert store["attempts"] == 1  # a full batch that failed is retried after a pause, not in a busy loop
    buffer.add(row(3))
    store["fail"] = False
    wait_for(lambda: len(store["rows"]) == 3, seconds=2.0)
    assert buffer.pending() == 0


def test_a_forked_worker_gets_its_own_flusher():
    store, factory = recording_factory()
    buffer = SearchLogBuffer(factory, max_rows=100, max_age_s=0.1)
    buffer.add(row(1))
    wait_for(lambda: len(store["rows"]) == 1, seconds=2.0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its parent's thread did not come along
        try:
            buffer.add(row(2))
            deadline = time.monotonic() + 2
            while len(store["rows"]) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.write(write, b"ok" if len(store["rows"]) == 2 else b"no")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 2) == b"ok"
    os.waitpid(pid, 0)


def test_an_idle_flusher_thread_ends_and_the_next_row_starts_another(monkeypatch):
    monkeypatch.setattr(SearchLogBuffer, "IDLE_EXIT_S", 0.1)
    store, factory = recording_factory()
    buffer = SearchLogBuffer(factory, max_rows=100, max_age_s=0.05)
    buffer.add(row(1))
    wait_for(lambda: len(store["rows"]) == 1, seconds=2.0)
    wait_for(lambda: buffer._flusher is None, seconds=2.0)
    buffer.add(row(2))
    wait_for(lambda: len(store["rows"]) == 2, seconds=2.0)
