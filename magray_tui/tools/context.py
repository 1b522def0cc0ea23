"""What every tool builder is given: the settings, the sandbox and the lazy services."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from magray_tui.tools.sandbox import Sandbox

if TYPE_CHECKING:
    from magray_tui.config import ToolSettings

# Variables that commonly hold credentials; never handed to a child process.
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|COOKIE|SESSION|AUTH|PRIVATE|"
    r"^AWS_|^AZURE_|^GCP_|^GOOGLE_|^MAGRAY_|_PAT$|DSN$|DATABASE_URL$",
    re.IGNORECASE,
)


def safe_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without anything that looks like a secret."""
    env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
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
