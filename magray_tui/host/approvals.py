"""Questions for a person, asked in the TUIs open on a home (kept by the host).

A process that needs a person's approval (`magray mcp` before an "ask" tool runs) calls
`approval.ask(question, timeout_s)` on the host; the host hands the question to every open
TUI on the home, in this process (a local approver) or in another one (a client whose
events connection subscribed with `"approver": true`), and waits for the first answer.

Events to approvers:
  {"event": "ask", "question": {"id": "q1", "client": ..., "tool": ..., "arguments": {...},
                                "subject": "...", "timeout_s": 120}}
  {"event": "asked", "id": "q1", "answer": "once" | "always" | "deny" | "timeout" | ...}
An approver answers with the op `approval.answer(id, answer)`; the first answer wins and
`asked` tells every approver to close its question. `ask` returns the answer, "timeout"
when nobody answered in time, "nobody" when no TUI is open, "closing" when the host quit,
"gone" when the process that asked went away meanwhile (its question closes at once).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

ANSWERS = frozenset({"once", "always", "deny"})
GONE_CHECK_S = 0.25  # how often a waiting question checks that its asker is still there
Sink = Callable[[dict[str, Any]], None]


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer = "timeout"


class Approvals:
    """The host's open questions. `sinks()` lists where events go right now: the local
    approvers and the approver peers' `send` (a peer that left is simply not listed)."""

    def __init__(self, peer_sinks: Callable[[], list[Sink]]) -> None:
        self._peer_sinks = peer_sinks
        self._local: list[Sink] = []
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False

    def add_local(self, sink: Sink) -> None:
        self._local.append(sink)

    def _sinks(self) -> list[Sink]:
        return [*self._local, *self._peer_sinks()]

    def ask(
        self,
        question: dict[str, Any],
        timeout_s: float,
        asker_gone: Callable[[], bool] | None = None,
    ) -> str:
        sinks = self._sinks()
        if not sinks:
            return "nobody"
        pending = _Pending()
        with self._lock:
            if self._closed:
                return "closing"
            qid = f"q{next(self._ids)}"
            self._pending[qid] = pending
        asked = {**question, "id": qid, "timeout_s": timeout_s}
        delivered = self._send(sinks, {"event": "ask", "question": asked})
        if delivered:
            deadline = time.monotonic() + max(0.0, timeout_s)
            while not pending.done.wait(min(GONE_CHECK_S, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    break
                if asker_gone is not None and asker_gone():
                    pending.answer = "gone"
                    break
        else:
            pending.answer = "nobody"
        with self._lock:
            self._pending.pop(qid, None)
        self._send(self._sinks(), {"event": "asked", "id": qid, "answer": pending.answer})
        return pending.answer

    def answer(self, qid: str, answer: str) -> bool:
        """Settle question `qid`; False when it was already settled (or never asked)."""
        if answer not in ANSWERS:
            from magray_tui.host.errors import HostError

            raise HostError(f"not an answer: {answer!r} (once, always or deny)")
        with self._lock:
            pending = self._pending.pop(str(qid), None)
        if pending is None:
            return False
        pending.answer = answer
        pending.done.set()
        return True

    def close(self) -> None:
        """The host is stopping: every open question ends now, answered "closing"."""
        with self._lock:
            self._closed = True
            pending, self._pending = list(self._pending.values()), {}
        for item in pending:
            item.answer = "closing"
            item.done.set()

    @staticmethod
    def _send(sinks: list[Sink], event: dict[str, Any]) -> int:
        delivered = 0
        for sink in sinks:
            try:
                sink(event)
                delivered += 1
            except Exception:  # a peer that just left, or a TUI closing
                log.debug("could not deliver a question", exc_info=True)
        return delivered
