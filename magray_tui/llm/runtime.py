"""Importing litellm once, quietly: no network, no banner, its logs in our log file.

litellm takes seconds to import, so `litellm()` is only ever called from a worker. Before
the import the cost map is pinned to the bundled copy (no download); after it, litellm's
stderr handlers are removed so its loggers propagate to the root logger (our log file),
and every record passes through `KeyRedactor`, which masks API keys.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.Lock()
_module: ModuleType | None = None

LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
# Loggers whose records may carry request details (URLs, headers, error bodies).
REDACTED_LOGGERS = (*LITELLM_LOGGERS, "httpx", "httpcore", "openai", "magray_tui.llm")

# Variables that may hold secrets; any value found in one is masked wherever it appears.
_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
# Key-shaped strings in text we did not get from the environment (e.g. an echoed header).
_KEY_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|gsk_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|(?i:bearer)\s+[A-Za-z0-9_\-\.]{8,}|(?i:x-api-key)['\"]?\s*[:=]\s*['\"]?[A-Za-z0-9_\-]{8,})"
)


def _secret_values() -> list[str]:
    values = {v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 8}
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every API key (from the environment or key-shaped) replaced by ***."""
    for value in _secret_values():
        if value in text:
            text = text.replace(value, "***")
    return _KEY_SHAPES.sub("***", text)


class KeyRedactor(logging.Filter):
    """Masks keys in a record's final message (arguments merged) and its traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            # The traceback text holds the exception's message: format it now, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_redactor = KeyRedactor()


def install_redaction() -> None:
    """Attach the key filter to every logger that may see request details. Idempotent."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _redactor not in logger.filters:
            logger.addFilter(_redactor)


def _route_litellm_logs() -> None:
    # litellm adds a stream handler writing to stderr; behind Textual that corrupts the
    # screen. Without it the records propagate to the root logger: the log file.
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                logger.removeHandler(handler)
        logger.propagate = True


def litellm() -> ModuleType:
    """The litellm module, imported and configured on first use (slow: call in a worker)."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
            os.environ.setdefault("TIKTOKEN_CACHE_DIR", tiktoken_cache_dir() or "")
            install_redaction()
            # Its own deprecation noise (pydantic attribute access) is not ours to act on.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"litellm(\.|$)")
            # litellm attaches a stderr handler at import and logs through it while importing:
            # mute its loggers until that handler is gone.
            loggers = [logging.getLogger(name) for name in LITELLM_LOGGERS]
            for logger in loggers:
                logger.disabled = True
            try:
                import litellm as module
            finally:
                _route_litellm_logs()
                for logger in loggers:
                    logger.disabled = False

            module.suppress_debug_info = True
            module.set_verbose = False
            module.turn_off_message_logging = True  # message text stays out of its logs
            module.drop_params = True  # an option a provider lacks is dropped, not an error
            module.telemetry = False
            _register_offline(module)
            _module = module
            log.debug("litellm %s loaded", getattr(module, "version", "?"))
    return _module


def _register_offline(module: Any) -> None:
    from magray_tui.llm.offline import PROVIDER
    from magray_tui.llm.offline_provider import OfflineLLM

    entries = [e for e in module.custom_provider_map if e.get("provider") != PROVIDER]
    entries.append({"provider": PROVIDER, "custom_handler": OfflineLLM()})
    module.custom_provider_map = entries
    from litellm.utils import custom_llm_setup

    custom_llm_setup()


def tiktoken_cache_dir() -> str | None:
    """litellm ships tiktoken's BPE files; pointing tiktoken there avoids a download."""
    import importlib.util

    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(spec.submodule_search_locations[0], "litellm_core_utils", "tokenizers")
    return folder if os.path.isdir(folder) else None
