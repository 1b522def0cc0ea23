"""Work that waits until the typing stops (search- and filter-as-you-type)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.timer import Timer
from textual.widget import Widget


class Debounce:
    """Call `callback` once, `delay` seconds after the last `schedule()` (typing stopped)."""

    def __init__(self, node: Widget, delay: float, callback: Callable[[], Any]) -> None:
        self.node, self.delay, self.callback = node, delay, callback
        self._timer: Timer | None = None

    def schedule(self) -> None:
        self.cancel()
        self._timer = self.node.set_timer(self.delay, self.callback)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def now(self) -> None:
        """Run it at once (Enter pressed), dropping the one scheduled."""
        self.cancel()
        self.callback()
