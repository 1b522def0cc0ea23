"""The memory browser's actions: forget (with undo), tombstones, restore, edit, add, copy,
and its palette commands (search, add, reindex). Writes run in a thread worker; the pane
refreshes when one finishes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual import work

from magray_tui.tui.background import run_low_priority
from magray_tui.tui.formatting import snippet
from magray_tui.tui.panes.base import PaletteCommand
from magray_tui.tui.screens.memory_editor import MemoryDraft, MemoryEditor

if TYPE_CHECKING:
    from magray_tui.memory import MemoryService, Record
    from magray_tui.tui.panes.memory_browser import MemoryBrowser

    _Base = MemoryBrowser
else:
    _Base = object

WRITE_LABELS = {"forgot": "forgetting", "restored": "restoring", "added": "adding"}


class MemoryActions(_Base):
    """Mixed into `MemoryBrowser`, which declares the bindings and the messages."""

    @work(thread=True, group="memory-write", exit_on_error=False)
    def run_change(self, action: str, change: Callable[[MemoryService], Record]) -> None:
        with self.env.jobs.track(WRITE_LABELS.get(action, "saving")):
            record = change(self.memory)
        self.post_message(self.RecordChanged(action, record))

    def on_memory_browser_record_changed(self, message: MemoryBrowser.RecordChanged) -> None:
        rec = message.record
        quoted = f"“{snippet(rec.text, 40)}”"
        keep = rec.id
        if message.action == "forgot":
            self._undo.append(rec)
            self.notify(f"Forgot {quoted}. Press u to undo.", markup=False)
            keep = self.table.neighbour_of(rec.id)
        else:
            self.notify(f"{message.action.capitalize()} {quoted}.", markup=False)
        self.refresh_results(keep=keep)
        self.post_message(self.MemoryChanged())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """False hides a key that means nothing here; None shows it greyed out."""
        writable = self.backend is not None and not self.backend.read_only
        row = self.table.selected if self.workspace_ready else None
        live = not self.tombstones
        if action in ("forget", "edit"):
            return ((writable and row is not None) or None) if live else False
        if action == "restore":
            return False if live else ((writable and row is not None) or None)
        if action == "copy":
            return row is not None or None
        if action == "add":
            return writable or None
        if action == "undo_forget":
            return writable and bool(self._undo)
        return True

    def action_forget(self) -> None:
        if row := self.table.selected:
            self.run_change("forgot", lambda m, ref=row.record.id: m.forget(ref))

    def action_undo_forget(self) -> None:
        if self._undo:
            rec = self._undo.pop()
            self.run_change("restored", lambda m, ref=rec.id: m.restore(ref))

    def action_restore(self) -> None:
        if row := self.table.selected:
            self.run_change("restored", lambda m, ref=row.record.id: m.restore(ref))

    def action_toggle_tombstones(self) -> None:
        self.tombstones = not self.tombstones
        self.set_class(self.tombstones, "-tombstones")
        self.refresh_results()
        self.refresh_bindings()

    def action_edit(self) -> None:
        row = self.table.selected
        if row is None:
            return
        rec = row.record
        draft = MemoryDraft(rec.text, list(rec.tags), rec.layer.value, rec.kind)

        def save(result: MemoryDraft | None) -> None:
            if result is not None:
                self.run_change(
                    "edited", lambda m: m.update(rec.id, text=result.text, tags=result.tags)
                )

        self.app.push_screen(MemoryEditor("Edit memory", draft, new=False), save)

    def action_add(self) -> None:
        def save(result: MemoryDraft | None) -> None:
            if result is not None:
                self.run_change("added", lambda m: _add(m, result))

        self.app.push_screen(MemoryEditor("Add a memory", MemoryDraft(), new=True), save)

    def action_copy(self) -> None:
        if row := self.table.selected:
            self.app.copy_to_clipboard(row.record.text)
            self.notify(f"Copied {len(row.record.text)} characters to the clipboard.")

    # ---- palette and maintenance ---------------------------------------------------------
    def palette_commands(self) -> Iterable[PaletteCommand]:
        if self.memory is None or not self.workspace_ready:
            return
        yield PaletteCommand(
            "Search memory", "Focus the memory search box", self.search_from_palette
        )
        if self.memory.read_only:
            return
        yield PaletteCommand("Add a memory", "Write a new memory", self.action_add)
        if not self.env.jobs.running("reindexing"):
            yield PaletteCommand(
                "Reindex memories",
                "Rebuild the vector and keyword indexes from the database",
                self.run_reindex,
            )

    def search_from_palette(self) -> None:
        self.app.action_show_pane(self.PANE_ID)  # type: ignore[attr-defined]
        self.call_after_refresh(self.action_focus_search)

    @work(thread=True, exclusive=True, group="memory-maint", exit_on_error=False)
    def run_reindex(self) -> None:
        with self.env.jobs.track("reindexing") as job:
            memory = self.memory
            report = run_low_priority(lambda: memory.reindex(progress=job.progress))
        self.post_message(self.Reindexed(report.seconds))

    def on_memory_browser_reindexed(self, message: MemoryBrowser.Reindexed) -> None:
        self.notify(f"Indexes rebuilt in {message.seconds:.1f} s.")
        self.refresh_results()
        self.post_message(self.MemoryChanged())


def _add(memory: MemoryService, draft: MemoryDraft) -> Record:
    ref = memory.add(draft.text, layer=draft.layer, kind=draft.kind, tags=draft.tags)
    return memory.get(ref, count_access=False)
