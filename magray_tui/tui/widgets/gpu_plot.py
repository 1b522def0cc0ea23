"""Meters and history plots for the GPU pane, coloured by thresholds from the settings.

Textual's Sparkline scales to the min and max of its data, so a GPU flat at 95 % and one
flat at 5 % draw the same line; these draw on a fixed 0-100 scale instead. Colours come
from component classes styled with the theme's $success / $warning / $error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

EIGHTHS = " ▁▂▃▄▅▆▇█"
LEVEL_CLASSES = {"ok": "gpu--ok", "warn": "gpu--warn", "crit": "gpu--crit"}
LEVEL_CSS = """
{name} > .gpu--ok {{ color: $success; }}
{name} > .gpu--warn {{ color: $warning; }}
{name} > .gpu--crit {{ color: $error; }}
{name} > .gpu--empty {{ color: $foreground 15%; }}
{name} > .gpu--axis {{ color: $text-muted; }}
"""


@dataclass(frozen=True)
class Limits:
    """Where a value turns warning / error; values are on the meter's own scale."""

    warn: float
    crit: float

    def level(self, value: float | None) -> str:
        if value is None or value < self.warn:
            return "ok"
        return "warn" if value < self.crit else "crit"


class _Levelled(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {*LEVEL_CLASSES.values(), "gpu--empty", "gpu--axis"}

    def style_of(self, level: str) -> Style:
        return self.get_component_rich_style(LEVEL_CLASSES.get(level, level), partial=True)


class GpuMeter(_Levelled):
    """`label  ██████░░░░  text`: one value as a bar of the widget's width."""

    DEFAULT_CSS = "GpuMeter { height: 1; }" + LEVEL_CSS.format(name="GpuMeter")
    LABEL_WIDTH = 7
    VALUE_WIDTH = 22

    fraction: reactive[float | None] = reactive(None)
    text: reactive[str] = reactive("N/A")

    def __init__(self, label: str, limits: Limits, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.label = label
        self.limits = limits
        self.level = "ok"

    def show(self, fraction: float | None, text: str, level_value: float | None) -> None:
        """`fraction` fills the bar (0..1, None: N/A); `level_value` picks the colour."""
        self.level = self.limits.level(level_value)
        self.fraction = None if fraction is None else min(1.0, max(0.0, fraction))
        self.text = text
        self.refresh()

    def render(self) -> Text:
        width = max(0, self.size.width - self.LABEL_WIDTH - self.VALUE_WIDTH - 2)
        out = Text(f"{self.label:<{self.LABEL_WIDTH}}", style=self.style_of("gpu--axis"))
        if self.fraction is None:
            out.append("╌" * width, self.style_of("gpu--empty"))
        else:
            eighths = round(self.fraction * width * 8)
            full, part = divmod(eighths, 8)
            bar = "█" * full + (EIGHTHS[part] if part and full < width else "")
            out.append(bar, self.style_of(self.level))
            out.append("░" * (width - len(bar)), self.style_of("gpu--empty"))
        out.append(f"  {self.text:>{self.VALUE_WIDTH}}")
        return out


def span_label(seconds: float) -> str:
    if seconds >= 3600:
        return f"-{seconds / 3600:.1f}h"
    if seconds >= 120:
        return f"-{seconds / 60:.0f}m"
    return f"-{seconds:.0f}s"


class HistoryPlot(_Levelled):
    """History of a 0-100 metric, newest on the right. One row is a sparkline; with three
    rows or more it gets a y axis and a time axis (how long ago the left edge is)."""

    DEFAULT_CSS = "HistoryPlot { height: 1; }" + LEVEL_CSS.format(name="HistoryPlot")
    LABEL_WIDTH = 7

    def __init__(self, label: str, limits: Limits, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.label = label
        self.limits = limits
        self.values: Sequence[float | None] = ()
        self.ages: Sequence[float] = ()  # seconds before now, per value

    def show(self, values: Sequence[float | None], ages: Sequence[float]) -> None:
        self.values, self.ages = values, ages
        self.refresh()

    def render(self) -> Text:
        height = self.size.height or 1
        axes = height >= 3
        rows = height - 1 if axes else height
        margin = 5 if axes else self.LABEL_WIDTH
        width = max(1, self.size.width - margin)
        values = list(self.values)[-width:]
        pad = width - len(values)
        lines: list[Text] = []
        for row in range(rows):  # top row first
            if axes:
                tick = "100%" if row == 0 else (" 50%" if row == rows // 2 else "")
                line = Text(f"{tick:>4}│", style=self.style_of("gpu--axis"))
            else:
                line = Text(f"{self.label:<{margin}}", style=self.style_of("gpu--axis"))
            line.append(" " * pad)
            floor = (rows - 1 - row) * 8  # eighths below this row
            for value in values:
                if value is None:
                    line.append("·" if row == rows - 1 else " ", self.style_of("gpu--empty"))
                    continue
                filled = round(max(0.0, min(100.0, value)) / 100 * rows * 8) - floor
                char = EIGHTHS[max(0, min(8, filled))]
                if row == rows - 1 and char == " ":
                    char = "▁"  # a zero is still a reading, unlike a gap
                line.append(char, self.style_of(self.limits.level(value)))
            lines.append(line)
        if axes:
            lines.append(self._time_axis(margin, width))
        return Text("\n").join(lines)

    def _time_axis(self, margin: int, width: int) -> Text:
        shown = list(self.ages)[-width:]
        left = f"{self.label} {span_label(shown[0])}" if shown else self.label
        right = "now"
        gap = max(1, width - len(left) - len(right))
        return Text(" " * (margin - 1) + "└" + left + "─" * gap + right, self.style_of("gpu--axis"))
