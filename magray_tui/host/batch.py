"""Group commit for memory adds arriving from many clients at once.

Every add pays one transaction and one index update, and they run one at a time under
the service's write lock, so eight clients adding a note each waited in line for eight
commits. Here the adds that arrive while one is being written wait together and go in as
one `add_many` call: one commit for all of them. A group stays within one `add_many`
chunk (256 items), which is validated before anything is written and committed as one
transaction, so when it fails nothing of it is stored and each request is then retried
alone, to get its own answer (the one bad note fails, the others are stored).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

GROUP_LIMIT = 256  # MemoryService's add_many chunk: one validation, one transaction


class _Request:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.done = False
        self.result: list[str] | None = None
        self.error: BaseException | None = None


class AddGroups:
    def __init__(self, add_many: Callable[[list[dict[str, Any]]], list[str]]) -> None:
        self._add_many = add_many
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._writing = False

    def add(self, items: list[dict[str, Any]]) -> list[str]:
        if len(items) >= GROUP_LIMIT:
            return self._add_many(items)
        request = _Request(items)
        with self._cond:
            self._queue.append(request)
            while self._writing and not request.done:
                self._cond.wait()
            if request.done:
                return self._answer(request)
            self._writing = True  # this thread writes the group it is part of
            group, size = [], 0
            for queued in list(self._queue):
                if size + len(queued.items) > GROUP_LIMIT and group:
                    break
                group.append(queued)
                size += len(queued.items)
            self._queue = self._queue[len(group) :]
        try:
            self._write(group)
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
        return self._answer(request)

    def _write(self, group: list[_Request]) -> None:
        try:
            ids = self._add_many([item for r in group for item in r.items])
        except BaseException as exc:
            if len(group) == 1:
                group[0].error, group[0].done = exc, True
                return
            for r in group:  # nothing was stored: each on its own, for its own answer
                try:
                    r.result = self._add_many(r.items)
                except BaseException as one:
                    r.error = one
                r.done = True
            return
        start = 0
        for r in group:
            r.result, r.done = ids[start : start + len(r.items)], True
            start += len(r.items)

    @staticmethod
    def _answer(request: _Request) -> list[str]:
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result
