"""Token counts for prompt budgets: tiktoken's cl100k_base, loaded once from the BPE file
litellm ships (no download, no litellm import). Budgets are estimates for any model; where
tiktoken is unusable we fall back to ~4 characters per token.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

PER_MESSAGE = 4  # role and separators, as OpenAI counts them

_lock = threading.Lock()
_encode: Callable[[str], int] | None = None


def _load() -> Callable[[str], int]:
    global _encode
    with _lock:
        if _encode is None:
            try:
                from magray_tui.llm.runtime import tiktoken_cache_dir

                folder = tiktoken_cache_dir()
                if folder and not os.environ.get("TIKTOKEN_CACHE_DIR"):
                    os.environ["TIKTOKEN_CACHE_DIR"] = folder
                import tiktoken

                encoding = tiktoken.get_encoding("cl100k_base")

                def count(text: str) -> int:
                    return len(encoding.encode(text, disallowed_special=()))

                _encode = count
            except Exception as exc:  # no file and no network: estimate instead
                log.warning("tiktoken unavailable (%s); estimating tokens from length", exc)
                _encode = lambda text: (len(text) + 3) // 4  # noqa: E731
    return _encode


def count_text(text: str) -> int:
    return (_encode or _load())(text) if text else 0


def count_messages(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        total += PER_MESSAGE
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        total += count_text(str(content or ""))
        for call in message.get("tool_calls") or []:
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            total += count_text(str(fn.get("name", ""))) + count_text(str(fn.get("arguments", "")))
    return total


def count(messages_or_text: str | list[dict[str, Any]] | dict[str, Any]) -> int:
    if isinstance(messages_or_text, str):
        return count_text(messages_or_text)
    if isinstance(messages_or_text, dict):
        return count_messages([messages_or_text])
    if isinstance(messages_or_text, list):
        return count_messages(messages_or_text)
    return count_text(json.dumps(messages_or_text, default=str))
