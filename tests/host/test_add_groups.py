"""Group commit: adds that arrive while one is written go in together, each answered."""

from __future__ import annotations

import threading
import time

import pytest

from magray_tui.host.batch import AddGroups
from magray_tui.memory import MemoryError_


def test_adds_waiting_behind_a_write_are_committed_as_one_group(memory) -> None:
    calls: list[int] = []
    release = threading.Event()

    def add_many(items):
        calls.append(len(items))
        if len(calls) == 1:
            release.wait(30)  # the first write is slow: the others queue up behind it
        return memory.add_many(items)

    groups = AddGroups(add_many)
    results: dict[int, object] = {}

    def client(n: int) -> None:
        items = [{"id": f"c{n}", "text": f"note from client {n} about the harbour"}]
        if n == 5:
            items = [{"id": "bad", "text": "x", "importance": 7}]  # out of range
        try:
            results[n] = groups.add(items)
        except MemoryError_ as exc:
            results[n] = exc

    first = threading.Thread(target=client, args=(0,))
    first.start()
    while not calls:
        time.sleep(0.005)
    others = [threading.Thread(target=client, args=(n,)) for n in range(1, 8)]
    for t in others:
        t.start()
    deadline = time.monotonic() + 30
    while len(groups._queue) < 7 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(groups._queue) == 7
    release.set()
    for t in [first, *others]:
        t.join(30)
    # One write for the first, one for the seven queued behind it; that group held the bad
    # note, so nothing of it was stored and each of the seven was then written alone.
    assert calls[:2] == [1, 7]
    assert len(calls) == 2 + 7
    assert isinstance(results[5], MemoryError_)
    for n in (0, 1, 2, 3, 4, 6, 7):
        assert results[n] == [f"c{n}"]
        assert memory.get(f"c{n}", count_access=False).text.startswith(f"note from client {n}")
    assert memory.stats()["total_live"] == 7


def test_a_group_without_a_bad_note_is_one_commit(memory) -> None:
    calls: list[int] = []
    release = threading.Event()

    def add_many(items):
        calls.append(len(items))
        if len(calls) == 1:
            release.wait(30)
        return memory.add_many(items)

    groups = AddGroups(add_many)
    out: dict[int, list[str]] = {}
    threads = [
        threading.Thread(
            target=lambda n=n: out.__setitem__(n, groups.add([{"text": f"tide table {n}"}]))
        )
        for n in range(5)
    ]
    threads[0].start()
    while not calls:
        time.sleep(0.005)
    for t in threads[1:]:
        t.start()
    while len(groups._queue) < 4:
        time.sleep(0.005)
    release.set()
    for t in threads:
        t.join(30)
    assert calls == [1, 4]
    assert sorted(len(v) for v in out.values()) == [1] * 5
    assert memory.stats()["total_live"] == 5


def test_a_big_add_is_not_grouped(memory) -> None:
    seen: list[int] = []
    groups = AddGroups(lambda items: seen.append(len(items)) or memory.add_many(items))
    ids = groups.add([{"text": f"bulk {i}"} for i in range(300)])
    assert len(ids) == 300 and seen == [300]


def test_group_error_is_raised_for_a_lone_request(memory) -> None:
    groups = AddGroups(memory.add_many)
    with pytest.raises(MemoryError_):
        groups.add([{"text": "x", "importance": 7}])
