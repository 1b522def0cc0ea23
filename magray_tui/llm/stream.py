"""One streaming call through litellm, watched: a deadline per chunk, prompt cancel.

litellm's stream is read on a producer thread that hands chunks over a queue; the caller's
generator waits on the queue in short slices, so it can notice `cancel` or a stalled
server within ~50 ms whatever the socket is doing, close the response and return.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from magray_tui.llm.errors import classify
from magray_tui.llm.events import (
    Done,
    LLMError,
    ModelInfo,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from magray_tui.monitor.metrics import metrics

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often the consumer looks at `cancel` and the deadline
FREE_PROVIDERS = {"offline", "ollama", "lmstudio", "vllm"}


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


@dataclass
class _ToolCalls:
    """Tool-call fragments (OpenAI delta format) joined by index into complete calls."""

    calls: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, deltas: list[Any]) -> None:
        for position, delta in enumerate(deltas):
            index = _get(delta, "index")
            entry = self.calls.setdefault(
                index if isinstance(index, int) else position, {"id": "", "name": "", "args": []}
            )
            if _get(delta, "id"):
                entry["id"] = _get(delta, "id")
            function = _get(delta, "function")
            if function is not None:
                if _get(function, "name") and not entry["name"]:
                    entry["name"] = _get(function, "name")
                if _get(function, "arguments"):
                    entry["args"].append(_get(function, "arguments"))

    def complete(self) -> list[ToolCall]:
        return [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments="".join(c["args"]))
            for i, c in sorted(self.calls.items())
            if c["name"]
        ]


def _close(response: Any) -> None:
    """Close the HTTP response under a litellm stream wrapper (ends a blocked read)."""
    for target in (getattr(response, "completion_stream", None), response):
        close = getattr(target, "close", None)
        if callable(close):
            # already closed, or a generator running on the producer thread: nothing to do
            with contextlib.suppress(Exception):
                close()


def cost_of(litellm: Any, info: ModelInfo, prompt: int, completion: int) -> float | None:
    if info.provider in FREE_PROVIDERS:
        return 0.0
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=info.model, prompt_tokens=prompt, completion_tokens=completion
        )
        return float(prompt_cost + completion_cost)
    except Exception:  # a model without a known price
        return None


def stream_once(
    litellm: Any,
    info: ModelInfo,
    request: dict[str, Any],
    *,
    cancel: threading.Event,
    timeout_s: float,
    count: Callable[[Any], int],
) -> Iterator[StreamEvent]:
    """Yield the events of one call. Raises LLMError; `err.partial` says output was given."""
    chunks: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    stop = threading.Event()
    holder: dict[str, Any] = {}

    def produce() -> None:
        try:
            response = litellm.completion(**request)
            holder["response"] = response
            for chunk in response:
                if stop.is_set():
                    break
                chunks.put(("chunk", chunk))
            chunks.put(("end", None))
        except BaseException as exc:
            chunks.put(("error", exc))
        finally:
            if stop.is_set() and "response" in holder:
                # Only this thread can close a generator-backed stream (the offline model):
                # closing it ends the generation and frees the model for the next call.
                _close(holder["response"])

    started = time.perf_counter()
    threading.Thread(target=produce, name="magray-llm-stream", daemon=True).start()
    last = started
    first_token: float | None = None
    text: list[str] = []
    tools = _ToolCalls()
    finish: str | None = None
    usage: Any = None

    def usage_event() -> Usage:
        prompt = _get(usage, "prompt_tokens") if usage is not None else None
        completion = _get(usage, "completion_tokens") if usage is not None else None
        prompt = prompt if isinstance(prompt, int) else count(request["messages"])
        if not isinstance(completion, int):
            completion = count("".join(text)) + sum(count(c.arguments) for c in tools.complete())
        return Usage(
            model=info.model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            first_token_s=first_token,
            total_s=time.perf_counter() - started,
            cost_usd=cost_of(litellm, info, prompt, completion),
        )

    def failure(err: LLMError) -> LLMError:
        err.partial = bool(text or tools.calls)
        return err

    try:
        while True:
            if cancel.is_set():
                yield usage_event()
                yield Done("cancelled")
                return
            try:
                kind, payload = chunks.get(timeout=POLL_S)
            except queue.Empty:
                if time.perf_counter() - last > timeout_s:
                    if first_token is None and not tools.calls:
                        raise failure(_timeout(info, timeout_s)) from None
                    raise failure(_stalled(info, timeout_s)) from None
                continue
            last = time.perf_counter()
            if kind == "error":
                error = classify(
                    payload, model=info.model, api_base=info.api_base, timeout_s=timeout_s
                )
                if error.kind == "timeout" and (first_token is not None or tools.calls):
                    # The HTTP read timeout can beat the silence check above: after text was
                    # shown it is the same stall, not a retryable timeout.
                    error = _stalled(info, timeout_s)
                raise failure(error) from None
            if kind == "end":
                break
            usage = _get(payload, "usage") or usage
            for choice in _get(payload, "choices") or []:
                delta = _get(choice, "delta")
                content = _get(delta, "content") if delta is not None else None
                if content:
                    if first_token is None:
                        first_token = last - started
                        metrics.observe("llm.first_token", first_token)
                    text.append(content)
                    yield TextDelta(content)
                calls = _get(delta, "tool_calls") if delta is not None else None
                if calls:
                    if first_token is None:
                        first_token = last - started
                        metrics.observe("llm.first_token", first_token)
                    tools.add(list(calls))
                if _get(choice, "finish_reason"):
                    finish = _get(choice, "finish_reason")
        calls = tools.complete()
        yield from calls
        event = usage_event()
        metrics.observe("llm.total", event.total_s)
        yield event
        if calls:
            finish = "tool_calls"
        yield Done(finish if finish in ("stop", "length", "tool_calls") else "stop")
    finally:
        stop.set()
        response = holder.get("response")
        if response is not None:
            _close(response)


def _timeout(info: ModelInfo, timeout_s: float) -> LLMError:
    place = info.api_base or info.provider
    return LLMError(
        f"{place} did not answer within {timeout_s:g} s",
        kind="timeout",
        retryable=True,
        model=info.model,
    )


def _stalled(info: ModelInfo, timeout_s: float) -> LLMError:
    place = info.api_base or info.provider
    return LLMError(
        f"{place} stopped sending for {timeout_s:g} s; the reply is incomplete",
        kind="stalled",
        model=info.model,
    )
