"""The memory browser's filter and order pickers: layer, kind, tag, author, search mode,
sort.

Layer, mode and sort are fixed lists; the kinds, tags and authors on offer come from the
store (every kind and author, the most common tags), loaded in a worker when the store opens
and again after each change, so a new kind, tag or MCP client shows up without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Select
from textual.worker import get_current_worker

from magray_tui.terminal_text import one_line
from magray_tui.tui.panes.memory_queries import (
    ANY,
    LAYER_CHOICES,
    MODE_CHOICES,
    SORT_CHOICES,
)

if TYPE_CHECKING:
    from magray_tui.tui.panes.memory_browser import MemoryBrowser

    _Base = MemoryBrowser
else:
    _Base = object

# In toolbar order; the query request takes each of them by name.
FILTERS = ("layer", "kind", "tag", "author", "mode", "sort")
FIXED_CHOICES = {"layer": LAYER_CHOICES, "mode": MODE_CHOICES, "sort": SORT_CHOICES}
TOP_TAGS = 30
PROMPTS = {
    "layer": {ANY: "all layers"},
    "kind": {ANY: "any kind"},
    "tag": {ANY: "any tag"},
    "author": {ANY: "by anyone"},
    "sort": {"score": "by score", "date": "by date", "accesses": "by reads"},
}
TOOLTIPS = {
    "layer": "Layer filter (l)",
    "kind": "Kind filter (k): the kinds in the store",
    "tag": f"Tag filter (g): the {TOP_TAGS} most common tags",
    "author": "Author filter (h): who wrote it (you, the assistant, a file, an MCP client…)",
    "mode": "Search mode (m)",
    "sort": "Sort order (s)",
}


def choice(name: str, values: tuple[str, ...]) -> Select[str]:
    select = Select(_options(name, values), value=values[0], allow_blank=False, id=f"memory-{name}")
    select.tooltip = TOOLTIPS[name]
    return select


def _options(name: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    prompts = PROMPTS.get(name, {})
    # Kinds and tags are stored text: never markup, control characters made visible.
    return [(Text(prompts.get(v) or one_line(v)), v) for v in values]


class MemoryFilters(_Base):
    """Mixed into `MemoryBrowser`: the pickers' values and the store's kinds and tags."""

    class FacetsLoaded(Message):
        def __init__(self, facets: dict[str, list[tuple[str, int]]]) -> None:
            super().__init__()
            self.facets = facets

    def filter_selects(self) -> list[Select[str]]:
        choices = self.filter_choices
        return [choice(name, choices[name]) for name in FILTERS]

    @property
    def filter_choices(self) -> dict[str, tuple[str, ...]]:
        facets: dict[str, tuple[str, ...]] = getattr(self, "_facet_values", {})
        return {
            **FIXED_CHOICES,
            "kind": facets.get("kind", (ANY,)),
            "tag": facets.get("tag", (ANY,)),
            "author": facets.get("author", (ANY,)),
        }

    def filter_values(self) -> dict[str, str]:
        return {name: str(self.query_one(f"#memory-{name}", Select).value) for name in FILTERS}

    @work(thread=True, exclusive=True, group="memory-facets", exit_on_error=False)
    def load_facets(self) -> None:
        facets = self.memory.facets(top_tags=TOP_TAGS)
        if not get_current_worker().is_cancelled:
            self.post_message(self.FacetsLoaded(facets))

    def on_memory_filters_facets_loaded(self, message: FacetsLoaded) -> None:
        if not self.workspace_ready:
            return
        for name, key in (("kind", "kinds"), ("tag", "tags"), ("author", "authors")):
            select = self.query_one(f"#memory-{name}", Select)
            current = str(select.value)
            values = [ANY, *(value for value, _ in message.facets.get(key, ()))]
            if current not in values:  # a chosen kind or tag that is gone stays chosen
                values.append(current)
            self._facet_values = {**getattr(self, "_facet_values", {}), name: tuple(values)}
            if _current_values(select) == values:
                continue
            with select.prevent(Select.Changed):  # same value: no new query
                select.set_options(_options(name, tuple(values)))
                select.value = current

    def action_cycle(self, name: str) -> None:
        select = self.query_one(f"#memory-{name}", Select)
        values = self.filter_choices[name]
        current = str(select.value)
        nxt = values.index(current) + 1 if current in values else 0
        select.value = values[nxt % len(values)]


def _current_values(select: Select[Any]) -> list[str]:
    return [str(value) for _, value in select._options]
