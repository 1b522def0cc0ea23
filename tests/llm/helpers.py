"""Helpers shared by the LLM tests."""

from __future__ import annotations

from magray_tui.llm.events import LLMError, StreamEvent, TextDelta


def run(stream) -> tuple[list[StreamEvent], LLMError | None]:
    """All events of a stream and the error that ended it, if any."""
    events: list[StreamEvent] = []
    try:
        for event in stream:
            events.append(event)
    except LLMError as exc:
        return events, exc
    return events, None


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


USER = [{"role": "user", "content": "say something nice"}]
