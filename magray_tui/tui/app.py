"""The magray TUI: five panes over the same services the CLI uses.

Only textual and our own tui modules are imported here, so the first frame comes as fast
as a bare Textual app; the services (onnxruntime, the model, DuckDB) open in a thread
worker after mount and arrive as a message.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, NoReturn

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.lazy import Lazy
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from magray_tui.terminal_text import for_terminal, one_line
from magray_tui.tui.backend import Backend, open_backend
from magray_tui.tui.commands import MagrayCommands
from magray_tui.tui.errors import report_failure
from magray_tui.tui.heap import freeze_heap, thaw_heap
from magray_tui.tui.jobs import JobRegistry
from magray_tui.tui.key_routing import KeyRouter, install_alt_digits
from magray_tui.tui.keymap import key_display
from magray_tui.tui.panes.base import HelpKey, Pane, PaneEnv
from magray_tui.tui.panes.memory_browser import MemoryBrowser
from magray_tui.tui.panes.registry import DEFAULT_PANE, PANES
from magray_tui.tui.preferences import Preferences
from magray_tui.tui.promotion import WORKER_NAMES, PromotionCycles
from magray_tui.tui.questions import PersonQuestions, QuestionEvent
from magray_tui.tui.reembed import BackgroundReembed
from magray_tui.tui.screens.help import HelpScreen
from magray_tui.tui.startup import DeferredSettings, is_deferred
from magray_tui.tui.state import FirstWindow, UiState
from magray_tui.tui.themes import DEFAULT_THEME
from magray_tui.tui.widgets.footer import AppFooter
from magray_tui.tui.widgets.header import AppHeader
from magray_tui.tui.widgets.progress import JobProgress

if TYPE_CHECKING:
    from magray_tui.commands import AppContext
    from magray_tui.config import Settings

log = logging.getLogger("magray_tui.tui")


def utc_now() -> datetime:
    """Naive UTC, the form the store keeps its timestamps in."""
    return datetime.now(UTC).replace(tzinfo=None)


install_alt_digits()  # ESC+digit (tmux, xterm) is Alt+digit, before any key is read


def _pane_bindings() -> list[Binding]:
    """1-5 switch panes (when no text field has the focus); Alt+1-5 (ESC+digit, also Esc
    then a digit) and Ctrl+1-5 (where the terminal reports it: kitty, WezTerm, foot,
    iTerm2 with CSI u) switch from anywhere."""
    keys = []
    for n, cls in enumerate(PANES, 1):
        action = f"show_pane('{cls.PANE_ID}')"
        keys.append(Binding(str(n), action, cls.TITLE, show=False, id=f"pane.{cls.PANE_ID}"))
        alt_id = f"pane.{cls.PANE_ID}.alt"
        keys.append(
            Binding(f"alt+{n},ctrl+{n}", action, cls.TITLE, show=False, priority=True, id=alt_id)
        )
    return keys


class MagrayApp(PromotionCycles, Preferences, App[int]):
    TITLE = "magray"
    COMMANDS = App.COMMANDS | {MagrayCommands}
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding(
            "ctrl+p", "command_palette", "Palette", show=False, priority=True, id="app.palette"
        ),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        *_pane_bindings(),
    ]
    CSS = """
    #panes { height: 1fr; }
    #panes > ContentSwitcher { height: 1fr; }
    #panes TabPane { padding: 0; height: 1fr; }
    #status-bar { height: 1; background: $panel; }
    """

    class BackendOpened(Message):
        def __init__(self, backend: Backend, counts: dict[str, int]) -> None:
            super().__init__()
            self.backend, self.counts = backend, counts

    class DataChanged(Message):
        """Some process on this home (this one included) changed `domains`."""

        def __init__(self, domains: frozenset[str]) -> None:
            super().__init__()
            self.domains = domains

    class CountsLoaded(Message):
        def __init__(self, counts: dict[str, int]) -> None:
            super().__init__()
            self.counts = counts

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        backend_opener: Callable[[Settings], Backend] = open_backend,
        watch_themes: bool = True,
    ) -> None:
        super().__init__()
        self._created = time.perf_counter()
        self.settings = settings  # or DeferredSettings until the services worker builds them
        self.config_error: str | None = None  # a bad config found after the first frame
        self.jobs = JobRegistry()
        self.env = PaneEnv(settings, self.jobs, clock)
        self.panes: list[Pane] = [cls(self.env) for cls in PANES]
        self.backend: Backend | None = None
        self._open_backend = backend_opener
        self._watch_themes = watch_themes
        self._opened: Backend | None = None
        self._open_started = False
        self._open_done = threading.Event()
        self._cycle_lock = threading.Lock()  # one promotion cycle at a time
        self.reembed = BackgroundReembed(self)
        self.questions = PersonQuestions(self)  # other processes asking the person here
        self._closing = False
        self._keys = KeyRouter()
        self.state_file = settings.paths.state / "tui.json"
        # A few tiny local files, read before the first frame so the chosen theme shows
        # from the start instead of flashing the default.
        self.ui_state = UiState.load(self.state_file)
        self.first_window = FirstWindow(settings.paths.state)
        self.startup_problems: list[str] = []
        self.startup_problems += self._register_themes()
        # Set before mount: a theme change after mount restyles every widget (~0.3 s).
        wanted = self.ui_state.theme
        self.theme = wanted if wanted in self.available_themes else DEFAULT_THEME
        if wanted and wanted != self.theme:
            self.startup_problems.append(f"theme {wanted!r} is no longer available")
        self.user_keymap: dict[str, str] = {}
        self.startup_problems += self.load_user_keys()

    # ---- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield AppHeader(id="header")
        initial = self.ui_state.pane if self.ui_state.pane in self.pane_ids else DEFAULT_PANE
        with TabbedContent(initial=f"tab-{initial}", id="panes"):
            for n, pane in enumerate(self.panes, 1):
                with TabPane(f"{n} {pane.TITLE}", id=f"tab-{pane.PANE_ID}"):
                    # Hidden panes are built after the first frame.
                    yield pane if initial == pane.PANE_ID else Lazy(pane)
        yield JobProgress(self.jobs, id="status-bar")
        yield AppFooter()

    def on_mount(self) -> None:
        if not is_deferred(self.settings):
            self.query_one(AppHeader).model = self.settings.embedding.model
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._report(self.startup_problems, "Configuration")
        self.active_pane.focus_default()
        # Start the heavy imports only once the first frame is out: they hold the GIL
        # for most of a second and would otherwise delay it.
        self.call_after_refresh(self._after_first_frame)

    @property
    def pane_ids(self) -> list[str]:
        return [p.PANE_ID for p in self.panes]

    @property
    def active_pane_id(self) -> str:
        active = self.query_one("#panes", TabbedContent).active
        return active.removeprefix("tab-") if active else DEFAULT_PANE

    @property
    def active_pane(self) -> Pane:
        return self.pane(self.active_pane_id)

    def pane(self, pane_id: str) -> Pane:
        return next(p for p in self.panes if pane_id == p.PANE_ID)

    def _after_first_frame(self) -> None:
        self._log_first_frame()
        self._open_started = True
        self.open_services()
        if self._watch_themes:
            self.watch_config_files()

    def _log_first_frame(self) -> None:
        now = time.time()
        try:
            import psutil

            since_start = now - psutil.Process().create_time()
            in_app = time.perf_counter() - self._created
            # An upper bound: the first frame plus the work queued right after it.
            log.info(
                "first frame %.3f s after process start (%.3f s in the TUI)", since_start, in_app
            )
        except Exception:  # measuring must never break the app
            log.debug("could not measure the first frame", exc_info=True)

    # ---- services ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="services", exit_on_error=False)
    def open_services(self) -> None:
        try:
            with self.jobs.track("opening memory"):
                settings = self.settings
                if is_deferred(settings):
                    settings = settings.load()  # a bad config raises here, after the frame
                    if not self._closing:
                        self.call_from_thread(self._use_settings, settings)
                backend = self._open_backend(settings)
                self._opened = backend
                counts = backend.memory.stats()["counts"]
        finally:
            self._open_done.set()
        if not self._closing:
            self.post_message(self.BackendOpened(backend, counts))

    def _use_settings(self, settings: Settings) -> None:
        self.settings = self.env.settings = settings
        self.query_one(AppHeader).model = settings.embedding.model

    def on_magray_app_backend_opened(self, message: BackendOpened) -> None:
        self.backend = message.backend
        header = self.query_one(AppHeader)
        header.model = message.backend.model_label()
        header.counts = message.counts
        header.note = message.backend.note
        header.state = "ready"
        for pane in self.panes:
            pane.attach_backend(message.backend)
        self.start_promotion_timer()
        self.reembed.start(message.backend)  # a changed embedding model: re-embed the store
        self._changed: set[str] = set()
        from magray_tui.host import watch_changes

        # Live panes: every magray process on the home announces its changes (host.py).
        watch_changes(message.backend.services, lambda d: self.post_message(self.DataChanged(d)))
        self.questions.listen(message.backend.services)
        self.call_after_refresh(freeze_heap)
        if message.backend.note:
            self.notify(
                message.backend.note, title="Memory is read-only", severity="warning", markup=False
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        what = {
            "services": "Opening the memory store",
            "counts": "Counting memories",
            "reembed": "Re-embedding the memory",
        }
        what |= WORKER_NAMES
        group = event.worker.group
        if group == "services" and is_config_error(event.worker.error):
            # As `magray` says it for every command: one line, after the screen is restored.
            self.config_error = str(event.worker.error)
            self.exit(return_code=1)
            return
        message = report_failure(
            self,
            what.get(group, "A background job"),
            event.worker.error,
            self.settings.paths.log_file,
        )
        if group == "services":
            self.query_one(AppHeader).state = "failed"
            for pane in self.panes:
                pane.backend_failed(message)

    @on(QuestionEvent)
    def _on_question(self, message: QuestionEvent) -> None:
        self.questions.handle(message.event)

    def on_magray_app_data_changed(self, message: DataChanged) -> None:
        if not self._changed:  # one refresh per burst of changes, well within a second
            self.set_timer(0.2, self._refresh_changed)
        self._changed |= message.domains

    def _refresh_changed(self) -> None:
        changed, self._changed = self._changed, set()
        if "memory" in changed:
            self.refresh_counts()
        for pane in self.panes:
            refresh = getattr(pane, "data_may_have_changed", None)
            if callable(refresh) and pane.is_mounted:
                refresh()

    @on(MemoryBrowser.MemoryChanged)
    def refresh_counts(self) -> None:
        if self.backend is not None:
            self.count_memories(self.backend)

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def count_memories(self, backend: Backend) -> None:
        self.post_message(self.CountsLoaded(backend.memory.stats()["counts"]))

    def on_magray_app_counts_loaded(self, message: CountsLoaded) -> None:
        # Counts can arrive from a worker while the app is shutting down: no header then.
        for header in self.query(AppHeader):
            header.counts = message.counts

    def close_backend(self, wait_s: float = 30.0) -> None:
        """Close the services once the app has stopped (waits for a start-up in flight)."""
        self._closing = True
        if self._open_started:
            self._open_done.wait(wait_s)
        if self._opened is not None:
            self._opened.close()
        self.first_window.release()
        thaw_heap()

    # ---- keys ----------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._keys.sent(event, self.focused or self.screen)
        await super().on_event(event)

    def on_key(self, event: events.Key) -> None:
        """A key came back unhandled. If it was sent to a widget that has lost the focus
        to a text field since (`/` then fast typing), type it there: it is not a command."""
        field = self._keys.retarget(event, self.focused)
        if field is not None:
            event.prevent_default()  # not App._on_key: no binding lookup
            field._forward_event(events.Key(event.key, event.character))

    # ---- panes, help, themes -------------------------------------------------------------
    def action_show_pane(self, pane_id: str) -> None:
        pane = self.pane(pane_id)
        tabs = self.query_one("#panes", TabbedContent)
        if tabs.active == f"tab-{pane_id}":
            # Already shown: keep the focus where it is (or give it back).
            if self.focused is None:
                pane.focus_default()
            return
        # Drop the focus first: a focused widget left in the hidden pane would pull the
        # tabs back to it (TabbedContent follows focus).
        self.screen.set_focus(None)
        tabs.active = f"tab-{pane_id}"
        if pane.is_mounted:
            # Now, not after the next frame: keys typed right after the pane's number
            # must find the focus where the pane puts it.
            pane.focus_default()

    @on(TabbedContent.TabActivated, "#panes")
    def pane_activated(self) -> None:
        if not self.query("#panes"):
            # A pane key just before Ctrl+Q on a busy machine: its TabActivated came after
            # the app had begun taking its DOM down (NoMatches '#panes', a traceback).
            return
        pane = self.active_pane
        pane.data_may_have_changed()  # e.g. the chat stored memories while it was hidden
        self.refresh_counts()
        focused = self.focused
        if focused is None or pane not in focused.ancestors_with_self:
            self.call_after_refresh(pane.focus_default)  # a tab clicked, or built just now
        if self.ui_state.pane != pane.PANE_ID:
            self.ui_state.pane = pane.PANE_ID
            if self.first_window.first:  # a second window leaves the first one's pane
                self.save_ui_state("pane")

    def action_help(self) -> None:
        pane = (
            next((n for n in self.focused.ancestors_with_self if isinstance(n, Pane)), None)
            if self.focused
            else None
        )
        pane = pane or self.active_pane
        everywhere = tuple(
            HelpKey(key_display(self, b, self.user_keymap), b.description, b.id or "")
            for b in self.BINDINGS
            if isinstance(b, Binding) and b.id
        )
        self.push_screen(HelpScreen(pane.help_info(self.user_keymap), everywhere))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Toasts carry stored and model text (a memory's snippet, a path, a provider's
        # error): control characters are made visible here, once for every toast.
        super().notify(
            for_terminal(message),
            title=one_line(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Our palette has "Change theme"; Textual's "Theme" would be a duplicate.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Theme")


def run_app(ctx: AppContext) -> NoReturn:
    """Run the TUI until the user quits, then end the process."""
    settings = DeferredSettings(ctx.prepare_home(), ctx.build_settings)
    app = MagrayApp(settings)  # type: ignore[arg-type]
    try:
        result = app.run()
    finally:
        app.close_backend()
    code = result if isinstance(result, int) else (app.return_code or 0)
    if app.config_error:
        sys.stderr.write(f"Error: {for_terminal(app.config_error)}\n")
        code = 1
    # Everything durable is closed now. The interpreter's own teardown (collecting the heap
    # of litellm, onnxruntime and the models, unloading them) took ~2 s after Ctrl+Q:
    # flush what is buffered and leave without it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def is_config_error(error: BaseException | None) -> bool:
    from magray_tui.config import ConfigError  # loaded by now: the worker built Settings

    return isinstance(error, ConfigError)
