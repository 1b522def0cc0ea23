"""One way to turn a failed background job into something the user sees."""

from __future__ import annotations

import logging
from pathlib import Path

from textual.dom import DOMNode

from magray_tui.tui.backend import describe_error, user_message

log = logging.getLogger("magray_tui.tui")


def report_failure(node: DOMNode, what: str, error: BaseException, log_file: Path) -> str:
    """Log `error` (with traceback when it is a bug) and show a toast; returns the message."""
    message = describe_error(error, log_file)
    if user_message(error) is None:
        log.error("%s failed", what, exc_info=error)
    else:
        log.warning("%s failed: %s", what, error)
    node.notify(message, title=f"{what} failed", severity="error", timeout=8, markup=False)
    return message
