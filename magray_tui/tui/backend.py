"""What the panes talk to: the long-lived services, opened off the UI thread.

Importing this module is cheap; `open_backend` is the slow part (onnxruntime, the
embedding model, DuckDB, the indexes) and runs in a thread worker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.memory import MemoryService
    from magray_tui.services import Services

from magray_tui.user_errors import user_message

log = logging.getLogger(__name__)


@dataclass
class Backend:
    services: Services
    memory: MemoryService
    # Set when the store could only be opened read-only (another process holds it).
    note: str | None = None
    _closed: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def read_only(self) -> bool:
        return self.memory.read_only

    def model_label(self) -> str:
        embedder = self.memory.embedder
        provider = str(getattr(embedder, "provider", "")).replace("ExecutionProvider", "")
        return f"{embedder.model_id} ({provider})" if provider else embedder.model_id

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.services.close()


def open_backend(settings: Settings) -> Backend:
    """Open the memory service; if another process holds the store, open it read-only."""
    from magray_tui.services import Services

    services = Services.open(settings, write=False, need="memory")
    return Backend(services, services.memory, note=services.note)


def describe_error(exc: BaseException, log_file: Any) -> str:
    """One readable line for a toast or a pane; bugs point to the log file."""
    message = user_message(exc)
    if message is not None:
        return message
    return f"unexpected error ({type(exc).__name__}: {exc}); details in {log_file}"
