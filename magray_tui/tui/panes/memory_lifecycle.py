"""The memory browser's lifecycle keys: promote / demote (to the next layer, or a picked one),
pin, importance, supersede (`b` on the outdated record, then `b` on the one that replaces
it), and undo of the last recorded change. Each runs in a thread worker through
MemoryService; the pane then refreshes and a toast says what happened. Failures (a
`MemoryError_`, e.g. "nowhere to demote") become error toasts in the pane's worker handler."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding
from textual.message import Message

from magray_tui.tui.formatting import policy_line
from magray_tui.tui.keymap import key_display
from magray_tui.tui.panes.base import HelpInfo
from magray_tui.tui.screens.layer_picker import LayerPicker

if TYPE_CHECKING:
    from magray_tui.memory import MemoryService
    from magray_tui.tui.panes.memory_browser import MemoryBrowser

    _Base = MemoryBrowser
else:
    _Base = object

LAYERS = ("interact", "insights", "assets")
IMPORTANCE_STEP = 0.1
UNDO_ID = "memory.undo_change"

LIFECYCLE_BINDINGS = [
    Binding("p", "move('up')", "Promote", id="memory.promote"),
    Binding("P", "pick_layer('up')", "Promote to…", show=False, id="memory.promote_to"),
    Binding("d", "move('down')", "Demote", show=False, id="memory.demote"),
    Binding("D", "pick_layer('down')", "Demote to…", show=False, id="memory.demote_to"),
    Binding("i", "toggle_pin", "Pin", id="memory.pin"),
    Binding("plus", "importance(1)", "Importance +0.1", show=False, id="memory.importance_up"),
    Binding("minus", "importance(-1)", "Importance −0.1", show=False, id="memory.importance_down"),
    Binding("z", "undo_change", "Undo last change", show=False, id=UNDO_ID),
    Binding("b", "supersede", "Superseded by…", show=False, id="memory.supersede"),
]
_ON_LIVE = ("move", "pick_layer", "toggle_pin", "importance", "supersede")
LIFECYCLE_ACTIONS = frozenset({*_ON_LIVE, "undo_change"})  # the keys check_action decides


class MemoryLifecycle(_Base):
    """Mixed into `MemoryBrowser` (before `MemoryActions`), which lists the bindings."""

    class Done(Message):
        """A lifecycle change finished: `note` for the toast, `keep` for the cursor,
        `changed` the record changed (what `z` undoes next), `undone` if it was an undo."""

        def __init__(self, note: str, keep: str | None, changed: str, undone: bool) -> None:
            super().__init__()
            self.note, self.keep = note, keep
            self.changed, self.undone = changed, undone

    # Read-modify-write changes (pin toggle, importance step) read the record afresh in the
    # worker; one at a time, so two quick presses step twice instead of racing.
    _serial = threading.Lock()
    _outdated: str | None = None  # marked with `b`, waiting for the record that replaces it

    @work(thread=True, group="memory-write", exit_on_error=False)
    def run_lifecycle(
        self,
        label: str,
        ref: str,
        change: Callable[[MemoryService], tuple[str, str | None]],
        undo: bool = False,
    ) -> None:
        with self._serial, self.env.jobs.track(label):
            note, keep = change(self.memory)
        self.post_message(self.Done(note, keep, ref, undo))

    def on_memory_lifecycle_done(self, message: Done) -> None:
        # `z` undoes the records changed here, latest first, wherever the cursor went
        # (a promoted record leaves a filtered list; the cursor lands on a neighbour).
        if not message.undone:
            self._changed.append(message.changed)
        self.notify(message.note, markup=False)
        self.refresh_results(keep=message.keep)
        self.post_message(self.MemoryChanged())

    def reload_keeping_selection(self) -> None:
        """Show the store as it is now (after a promotion cycle), cursor on the same record."""
        if self.workspace_ready and self.memory is not None:
            row = self.table.selected
            self.refresh_results(keep=row.record.id if row else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """For `LIFECYCLE_ACTIONS` (the Memory pane asks it for those only)."""
        if action != "undo_change" and self.tombstones:
            return False  # restore first; `z` still undoes (e.g. an expiry)
        writable = self.backend is not None and not self.backend.read_only
        row = self.table.selected if self.workspace_ready else None
        if action == "undo_change" and self._changed:
            return writable or None
        return (writable and row is not None) or None

    # ---- keys ----------------------------------------------------------------------------
    def action_move(self, direction: str, to: str | None = None) -> None:
        if row := self.table.selected:
            up = direction == "up"
            ref = row.record.id
            change = partial(_move, ref=ref, up=up, to=to, hint=self._undo_hint())
            self.run_lifecycle("promoting" if up else "demoting", ref, change)

    def action_pick_layer(self, direction: str) -> None:
        row = self.table.selected
        if row is None:
            return
        layer = row.record.layer.value
        at = LAYERS.index(layer)
        targets = list(LAYERS[at + 1 :] if direction == "up" else reversed(LAYERS[:at]))
        if not targets:  # the service says why nothing can move
            self.action_move(direction)
            return
        word = "Promote" if direction == "up" else "Demote"

        def picked(to: str | None) -> None:
            if to:
                self.action_move(direction, to)

        title = f"{word} {row.record.id} (now in {layer}) to…"
        self.app.push_screen(LayerPicker(title, targets), picked)

    def action_toggle_pin(self) -> None:
        if row := self.table.selected:
            ref = row.record.id
            self.run_lifecycle("pinning", ref, partial(_toggle_pin, ref=ref))

    def action_importance(self, steps: int) -> None:
        if row := self.table.selected:
            ref = row.record.id
            change = partial(_step_importance, ref=ref, delta=steps * IMPORTANCE_STEP)
            self.run_lifecycle("saving", ref, change)

    def action_supersede(self) -> None:
        """First `b`: mark the selected record as outdated; `b` on another record: that one
        supersedes it (`b` on the same record again cancels)."""
        row = self.table.selected
        if row is None:
            return
        ref, old = row.record.id, self._outdated
        if old is None:
            self._outdated = ref
            self.notify(
                f"{ref} marked as outdated: select the memory that replaces it and press b "
                "(b here again cancels).",
                markup=False,
            )
        elif old == ref:
            self._outdated = None
            self.notify("Supersede cancelled.", markup=False)
        else:
            self._outdated = None
            change = partial(_supersede, old=old, new=ref, hint=self._undo_hint())
            self.run_lifecycle("superseding", old, change)

    def action_undo_change(self) -> None:
        """The last change made here (promote, demote, pin, importance), else the
        selected record's last recorded change (e.g. an expiry by a cycle)."""
        row = self.table.selected
        ref = self._changed.pop() if self._changed else (row.record.id if row else None)
        if ref is not None:
            self.run_lifecycle("undoing", ref, partial(_undo, ref=ref), undo=True)

    def _undo_hint(self) -> str:
        binding = next(b for b in LIFECYCLE_BINDINGS if b.id == UNDO_ID)
        keymap = getattr(self.app, "user_keymap", {})
        return f"Press {key_display(self.app, binding, keymap)} to undo."

    # ---- help ----------------------------------------------------------------------------
    def help_info(self, keymap: dict[str, str]) -> HelpInfo:
        info = super().help_info(keymap)
        if self.memory is None:
            return info
        return replace(info, status=partial(self._policy_status, self.memory))

    def _policy_status(self, memory: MemoryService) -> str:
        """Runs in the help screen's worker."""
        with self.env.jobs.track("reading the policy"):
            return policy_line(memory.policy_status(), self.env.settings.promotion)


# ---- the changes, run in the worker thread -------------------------------------------------
def _move(
    memory: MemoryService, *, ref: str, up: bool, to: str | None, hint: str
) -> tuple[str, str | None]:
    record = memory.promote(ref, to) if up else memory.demote(ref, to)
    if record.merged_into:
        return f"Merged into {record.merged_into} (near-duplicate). {hint}", record.merged_into
    word = "Promoted" if up else "Demoted"
    last = memory.history(record.id)[-1:] if up else []
    if last and last[0]["action"] in ("supersedes", "superseded"):
        # the promotion changed a value of its neighbour (or was itself outdated by it)
        link = json.loads(last[0]["details"] or "{}")
        if last[0]["action"] == "supersedes":
            what = f"supersedes {link.get('older')} (kept, ranked below it)"
        else:
            what = f"the newer {link.get('newer')} supersedes it"
        return f"{word} to {record.layer.value}; {what}. {hint}", record.id
    return f"{word} to {record.layer.value}. {hint}", record.id


def _supersede(memory: MemoryService, *, old: str, new: str, hint: str) -> tuple[str, str | None]:
    record = memory.supersede(old, new)
    note = f"{record.id} superseded by {record.superseded_by}: kept, ranked below it. {hint}"
    return note, record.superseded_by


def _toggle_pin(memory: MemoryService, *, ref: str) -> tuple[str, str | None]:
    record = memory.get(ref, count_access=False)
    record = memory.pin(ref, not record.pinned)
    note = "Pinned: it never expires." if record.pinned else "Unpinned: it can expire again."
    return note, record.id


def _step_importance(memory: MemoryService, *, ref: str, delta: float) -> tuple[str, str | None]:
    record = memory.get(ref, count_access=False)
    value = round(min(1.0, max(0.0, record.importance + delta)), 2)
    if value == round(record.importance, 2):
        return f"Importance is already {value:.2f}.", record.id
    memory.set_importance(ref, value)
    return f"Importance {record.importance:.2f} → {value:.2f}.", record.id


def _undo(memory: MemoryService, *, ref: str) -> tuple[str, str | None]:
    done = memory.undo(ref)
    record: Any = memory.get(ref, count_access=False)
    return f"Undid the last change on {ref}: {done}.", record.merged_into or record.id
