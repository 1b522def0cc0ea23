"""The façade's calls into the jobs: the promotion cycle, moves, supersede, export /
import and copy. A mixin of `service.MemoryService` (split out to keep that module small);
each method hands the open memory's core to the module that does the work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from magray_tui.memory import lifecycle, moves, store_copy, supersede
from magray_tui.memory.core import MemoryCore
from magray_tui.memory.indexes import Progress
from magray_tui.memory.records import Layer, Record
from magray_tui.memory.store_copy import CopyReport
from magray_tui.memory.transfer import ImportReport, export_jsonl, import_jsonl
from magray_tui.monitor.metrics import metrics


class JobCalls:
    """Promotion, moves, supersede, transfer and copy; `MemoryService` mixes it in."""

    core: MemoryCore
    clock: Callable[[], datetime]

    # ---- lifecycle (promotion engine; see lifecycle.py and moves.py) -------------------
    def run_cycle(self, *, dry_run: bool = False) -> lifecycle.CycleReport:
        """Promote, merge and expire by the active policy, as one commit."""
        if dry_run:  # a preview is not promotion activity
            return lifecycle.run_cycle(self.core, dry_run=True)
        with metrics.timer("promotion.cycle"):
            report = lifecycle.run_cycle(self.core)
        for action, n in report.counts().items():  # promote, merge, expire
            metrics.count(f"promotion.{action}", n)
        return report

    def promote(self, ref: str, to: str | Layer | None = None, *, actor: str = "user") -> Record:
        return moves.move(self.core, ref, to, up=True, actor=actor)

    def demote(self, ref: str, to: str | Layer | None = None, *, actor: str = "user") -> Record:
        return moves.move(self.core, ref, to, up=False, actor=actor)

    def pin(self, ref: str, pinned: bool = True) -> Record:
        return moves.set_pinned(self.core, ref, pinned)

    def confirm(self, ref: str, *, how: str = "thumbs-up") -> Record:
        """The user vouches for a record (see `moves.confirm`)."""
        return moves.confirm(self.core, ref, how=how)

    def set_importance(self, ref: str, value: float) -> Record:
        return moves.set_importance(self.core, ref, value)

    def undo(self, ref: str) -> str:
        return moves.undo(self.core, ref)

    def supersede(self, old: str, new: str, *, actor: str = "user") -> Record:
        """`new` supersedes `old` (a changed fact): `old` stays live and searchable, gets
        `valid_until` and `superseded_by`, and ranks below `new`. Returns `old` as now."""
        return supersede.supersede(self.core, old, new, actor=actor)

    def chain(self, ref: str) -> dict[str, Any]:
        """The records that supersede `ref` (`newer`) and those it supersedes (`older`)."""
        return supersede.chain(self.core, ref)

    def policy_status(self):
        """The learned policy's state: active or not, and why."""
        return lifecycle.current_policy(self.core, self.clock())

    # ---- import / export -----------------------------------------------------------------
    def export(self, path: Path | str, *, include_forgotten: bool = False) -> int:
        return export_jsonl(self, Path(path), include_forgotten=include_forgotten)

    def import_(
        self,
        path: Path | str,
        *,
        skip_bad: bool = False,
        allow_duplicates: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        return import_jsonl(
            self,
            Path(path),
            skip_bad=skip_bad,
            allow_duplicates=allow_duplicates,
            progress=progress,
        )

    def copy(self, url: str, namespace: str = "magray", *, to: bool, progress=None) -> CopyReport:
        """Copy this memory to the one at `url` (`to`), or that one here (store_copy.py)."""
        return store_copy.copy_with(self, url, namespace, to=to, progress=progress)
