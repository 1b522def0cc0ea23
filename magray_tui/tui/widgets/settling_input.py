"""An input that says when typing has settled: filter- and search-as-you-type without a
debounce timer in every pane that has one."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.message import Message
from textual.widgets import Input

from magray_tui.tui.debounce import Debounce


class SettlingInput(Input):
    """Posts `Settled(value)` once the keys pause for `delay` seconds, and at once (with
    `submitted=True`) on Enter. Its `Changed` and `Submitted` still bubble as usual."""

    class Settled(Message):
        def __init__(self, field: SettlingInput, value: str, submitted: bool) -> None:
            super().__init__()
            self.field, self.value, self.submitted = field, value, submitted

        @property
        def control(self) -> SettlingInput:  # for @on(SettlingInput.Settled, "#id")
            return self.field

    def __init__(self, delay: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settle = Debounce(self, delay, lambda: self._post(submitted=False))

    def _post(self, *, submitted: bool) -> None:
        self.post_message(self.Settled(self, self.value, submitted))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input is self:
            self._settle.schedule()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        if event.input is self:
            self._settle.cancel()
            self._post(submitted=True)
