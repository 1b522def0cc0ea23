"""Which model a store opens with, and the one re-embed a service runs at a time.

A store keeps the model it was embedded with until a re-embed switches it, whatever is
configured: searching with another model's vectors would be a dimension crash or silent
nonsense. The configured model, when it differs, is the re-embed's target: the TUI starts
it in the background when it was set explicitly, `magray memory reembed` runs it in the
foreground either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from magray_tui.memory import reembed
from magray_tui.memory.records import MemoryError_

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory.core import MemoryCore
    from magray_tui.memory.protocols import Embedder
    from magray_tui.memory.store import Store

log = logging.getLogger(__name__)


def open_store_embedder(settings: Settings, store: Store) -> Embedder:
    """The embedder that matches the store's vectors (the configured model for a new store)."""
    from magray_tui.ai import ModelError, load_embedder, model_for_store

    stored = store.get_meta("embed_model")
    follow = model_for_store(settings, stored)
    if follow is not None or stored is None or stored == settings.embedding.model:
        return load_embedder(settings, follow)
    try:
        embedder = load_embedder(settings, stored)
    except ModelError as exc:
        raise MemoryError_(
            f"this store was embedded with {stored}, which cannot be loaded here ({exc}); "
            f"make it available again to re-embed the store with {settings.embedding.model}"
        ) from None
    log.info(
        "this store uses %s; it is re-embedded with the configured %s (search uses %s until then)",
        stored,
        settings.embedding.model,
        stored,
    )
    return embedder


def configured_dim(settings: Settings, model_id: str) -> int | None:
    """A model's width from the registry's listing (which never loads or builds it)."""
    from magray_tui.ai import ModelRegistry

    for info in ModelRegistry(settings).list():
        if info.id == model_id:
            return info.dim
    return None


class ReembedRunner:
    """The service's re-embed: one at a time; a second caller follows the first's progress
    and then finishes whatever is left (nothing, once the first switched)."""

    def __init__(
        self, core: MemoryCore, on_switch: Callable[[Embedder], None] | None = None
    ) -> None:
        self.core = core
        self.on_switch = on_switch  # told the new model after a switch (the service's view)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._configured_dim: int | None = None
        self.reconcile()

    def close(self, wait_s: float = 60.0) -> None:
        """Stop a run at its next batch (what it staged stays) and wait for it."""
        self._closing.set()
        if self._lock.acquire(timeout=wait_s):
            self._lock.release()

    @property
    def configured(self) -> str:
        return self.core.settings.embedding.model

    def explicit(self) -> bool:
        return "model" in self.core.settings.embedding.model_fields_set

    def reconcile(self) -> None:
        """At open: drop a recorded re-embed whose target is no longer the model set. (With
        none set, a re-embed begun by `memory reembed --model` stays and resumes.)"""
        if self.core.store.read_only:
            return
        cur = self.core.store.cursor()
        model, _, _ = reembed.rows.target(cur)
        if model is not None and self.explicit() and model != self.configured:
            log.info("re-embed to %s dropped: the configured model is %s", model, self.configured)
            reembed.cancel(self.core)

    def status(self) -> reembed.ReembedStatus:
        st = reembed.status(self.core, running=self._lock.locked())
        if st.target_model is None and self.explicit() and self.configured != st.store_model:
            st.target_model = self.configured
            if self._configured_dim is None:  # listing hashes built models: once
                self._configured_dim = configured_dim(self.core.settings, self.configured)
            st.target_dim = self._configured_dim
            st.total = sum(self.core.repo.counts().values())
        return st

    def target(self, model: str | None = None) -> str:
        """The model to re-embed with: `model`, else the one set, else a recorded target,
        else the default."""
        if model:
            return model
        if self.explicit():
            return self.configured
        recorded, _, _ = reembed.rows.target(self.core.store.cursor())
        return recorded or self.configured

    def run(
        self,
        progress: reembed.Progress | None = None,
        *,
        model: str | None = None,
        stop: threading.Event | None = None,
        batch_size: int = reembed.BATCH,
    ) -> reembed.ReembedReport | None:
        """Re-embed with `model` (default: the one set, else a killed run's target, else the
        default), then switch to it; None when already on it (or stopped while waiting for
        another run). `stop` ends it at the next batch; a later run resumes what was staged."""
        self.core.require_writable()
        stop = _Either(stop, self._closing)
        if not self._lock.acquire(blocking=False):
            while not self._lock.acquire(timeout=0.5):
                if stop.is_set():
                    return None
                if progress:
                    st = reembed.status(self.core, running=True)
                    progress(st.done, st.total)
        try:
            if stop.is_set():
                return None
            model = self.target(model)
            if model == self.core.embedder.model_id:
                return None
            from magray_tui.ai import load_embedder

            target = load_embedder(self.core.settings, model)
            report = reembed.Reembedder(self.core, target, batch_size).run(progress, stop)
            if report.switched and self.on_switch is not None:
                self.on_switch(target)
            return report
        finally:
            self._lock.release()


class _Either:
    """Set when the caller's stop or the service's closing is."""

    def __init__(self, *events: threading.Event | None) -> None:
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)
