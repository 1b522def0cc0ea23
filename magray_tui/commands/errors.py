"""Every expected failure of a command becomes one readable line and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from magray_tui.user_errors import user_message


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OSError as exc:
            raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}") from None
        except Exception as exc:
            message = user_message(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None

    return wrapper
