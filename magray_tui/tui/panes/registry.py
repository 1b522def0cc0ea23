"""The panes, in tab order: the n-th gets key n. Add a pane by adding its class here."""

from __future__ import annotations

from magray_tui.tui.panes.base import Pane
from magray_tui.tui.panes.chat import ChatPane
from magray_tui.tui.panes.gpu import GpuPane
from magray_tui.tui.panes.health import HealthPane
from magray_tui.tui.panes.memory_browser import MemoryBrowser
from magray_tui.tui.panes.tasks import TasksPane

PANES: tuple[type[Pane], ...] = (ChatPane, MemoryBrowser, TasksPane, GpuPane, HealthPane)
DEFAULT_PANE = MemoryBrowser.PANE_ID
