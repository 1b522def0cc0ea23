"""Logging goes to a file in the state folder, never to the terminal (Textual owns it)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from magray_tui.config import Settings

_configured: str | None = None


def setup_logging(settings: Settings) -> None:
    """Route our logs, Python warnings and library logs into the log file. Idempotent."""
    log_to(settings.paths.log_file, settings.log_level)


def log_to(log_file: Path, level: str) -> None:
    """`setup_logging` from the log file and level alone (the TUI logs before its first
    frame, before the Settings are built); called again, it only sets the level."""
    global _configured
    if _configured == str(log_file):
        logging.getLogger().setLevel(level)
        return
    # Quiet libraries before they are imported anywhere.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_magray", False):
            root.removeHandler(handler)
            handler.close()
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()  # an unwritable state dir must not stop the app
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    handler._magray = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    _configured = str(log_file)
