"""The host's questions for a person (host/approvals.py), with threads as the TUIs: the
first answer wins, every TUI hears how it ended, and nothing waits forever."""

from __future__ import annotations

import threading
import time

import pytest

from magray_tui.host.approvals import Approvals
from magray_tui.host.errors import HostError


class Tui:
    """An approver: records the events; answers the question it is asked, if told to."""

    def __init__(self, approvals: Approvals, answer: str | None = None) -> None:
        self.events: list[dict] = []
        self.approvals, self.answer = approvals, answer
        approvals.add_local(self)

    def __call__(self, event: dict) -> None:
        self.events.append(event)
        if event["event"] == "ask" and self.answer is not None:
            qid, answer = event["question"]["id"], self.answer
            threading.Timer(0.05, lambda: self.approvals.answer(qid, answer)).start()


QUESTION = {"client": "claude-code", "tool": "memory_forget", "arguments": {"id": "x"}}


def test_nobody_to_ask_answers_at_once() -> None:
    started = time.monotonic()
    assert Approvals(lambda: []).ask(QUESTION, timeout_s=30) == "nobody"
    assert time.monotonic() - started < 1


def test_the_first_answer_wins_and_every_tui_hears_the_end() -> None:
    approvals = Approvals(lambda: [])
    quick, silent = Tui(approvals, "once"), Tui(approvals)
    assert approvals.ask(QUESTION, timeout_s=30) == "once"
    for tui in (quick, silent):
        kinds = [e["event"] for e in tui.events]
        assert kinds == ["ask", "asked"]
        asked = tui.events[0]["question"]
        assert asked["client"] == "claude-code" and asked["timeout_s"] == 30
        assert tui.events[1] == {"event": "asked", "id": asked["id"], "answer": "once"}
    assert approvals.answer(quick.events[0]["question"]["id"], "deny") is False  # too late


def test_unanswered_questions_time_out_and_a_gone_asker_ends_its_own() -> None:
    approvals = Approvals(lambda: [])
    tui = Tui(approvals)
    assert approvals.ask(QUESTION, timeout_s=0.3) == "timeout"
    started = time.monotonic()
    assert approvals.ask(QUESTION, timeout_s=30, asker_gone=lambda: True) == "gone"
    assert time.monotonic() - started < 2
    assert [e.get("answer") for e in tui.events if e["event"] == "asked"] == ["timeout", "gone"]


def test_a_closing_host_ends_open_questions_and_refuses_new_ones() -> None:
    approvals = Approvals(lambda: [])
    Tui(approvals)
    threading.Timer(0.2, approvals.close).start()
    assert approvals.ask(QUESTION, timeout_s=30) == "closing"
    assert approvals.ask(QUESTION, timeout_s=30) == "closing"


def test_only_the_three_answers_are_accepted() -> None:
    with pytest.raises(HostError, match="not an answer"):
        Approvals(lambda: []).answer("q1", "yes please")
