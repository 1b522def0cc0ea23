"""The one-line header: the app name, the embedding model and the memory counts per layer."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from magray_tui.terminal_text import one_line

LAYERS = ("interact", "insights", "assets")


class AppHeader(Widget):
    DEFAULT_CSS = """
    AppHeader {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    model: reactive[str] = reactive("")
    counts: reactive[dict[str, int] | None] = reactive(None)
    state: reactive[str] = reactive("loading")  # loading | ready | failed
    note: reactive[str | None] = reactive(None)

    def render(self) -> Content:
        full = self._line(compact=False)
        if full.cell_length <= self.content_size.width:
            return full
        return self._line(compact=True)  # narrow terminal: drop the name and the device

    def _line(self, *, compact: bool) -> Content:
        sep = (" │ ", "dim") if compact else ("  │  ", "dim")
        parts: list[tuple[str, str] | str] = []
        if not compact:
            parts += [("magray", "bold $primary"), sep, ("model ", "dim")]
        model = one_line(self.model.split(" (")[0] if compact else self.model)
        parts.append(model or "?")
        if self.state == "loading":
            parts.append((" (loading…)", "dim italic"))
        elif self.state == "failed":
            parts.append((" (unavailable)", "bold $error"))
        parts.append(sep)
        if self.counts is None:
            parts.append(("memories …", "dim"))
        else:
            for n, layer in enumerate(LAYERS):
                if n:
                    parts.append((" · ", "dim"))
                parts += [f"{layer} ", (f"{self.counts.get(layer, 0):,}", "bold")]
            parts.append((f" · forgotten {self.counts.get('forgotten', 0):,}", "dim"))
        if self.note:
            parts += [sep, ("read-only", "bold $warning")]
        return Content.assemble(*parts)
