"""What every tool builder is given: the settings, the sandbox and the lazy services."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from magray_tui.tools.procguard import is_secret_name, scrub_value
from magray_tui.tools.sandbox import Sandbox

if TYPE_CHECKING:
    from magray_tui.config import ToolSettings


def safe_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without anything that looks like a secret: variables with
    secret-looking names are dropped, credentials inside URL values are removed."""
    env = {k: scrub_value(v) for k, v in os.environ.items() if not is_secret_name(k)}
    env.update(extra or {})
    return env


@dataclass
class ToolContext:
    settings: ToolSettings
    sandbox: Sandbox
    memory: Callable[[], Any] | None = None
    todo: Callable[[], Any] | None = None

    @property
    def cap(self) -> int:
        return self.settings.output_cap_bytes
