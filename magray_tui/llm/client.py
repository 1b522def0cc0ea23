"""`LLMClient`: every model call of the app — resolution, streaming, retries, circuit
breakers, fallbacks — over litellm, which is imported on the first call (in a worker).

    client = LLMClient(settings)            # cheap
    info = client.resolve()                 # slow (imports litellm, probes servers)
    for event in client.stream(messages, tools=specs, cancel=cancel_event):
        ...                                 # TextDelta | ToolCall | Usage | Done | Fallback

Errors reach the caller as `LLMError` with a readable message. Before the first token a
failed call is retried (connect errors, 429, 5xx, timeouts; backoff doubles), then the next
model of the chain is tried ([llm] fallbacks, then the offline model); after the first
token nothing is retried: the error ends the turn and the text so far stays with the caller.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from magray_tui.llm import offline, providers, tokens
from magray_tui.llm.breaker import CircuitBreaker
from magray_tui.llm.errors import BREAKER_KINDS
from magray_tui.llm.events import (
    Done,
    Fallback,
    LLMError,
    ModelInfo,
    ProviderStatus,
    StreamEvent,
    TextDelta,
)
from magray_tui.monitor.metrics import metrics

if TYPE_CHECKING:
    from magray_tui.config import Settings

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 8.0
NO_MODEL = (
    "no model is available: set [llm] model (with its key in the environment), start Ollama,"
    " LM Studio or vLLM, or install the offline model (make install)"
)


class LLMClient:
    def __init__(
        self,
        settings: Settings,
        *,
        local_servers: Sequence[providers.LocalServer] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.local_servers = providers.LOCAL_SERVERS if local_servers is None else local_servers
        self._env = env  # None: the live os.environ (keys are read when needed, never kept)
        self._lock = threading.RLock()
        self._active: ModelInfo | None = None
        self._breakers: dict[str, CircuitBreaker] = {}
        self._no_tools: set[str] = set()  # models whose server refused a tools request

    # ---- which model ---------------------------------------------------------------------
    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    @property
    def active(self) -> ModelInfo | None:
        return self._active

    def resolve(self) -> ModelInfo:
        """Pick the model: explicit config → provider key in env → local server → offline."""
        cfg = self.settings.llm
        info: ModelInfo | None = None
        if cfg.model:
            model, base = providers.split_target(cfg.model)
            info = self._info(model, base or cfg.api_base)
        elif cfg.api_base:
            found = providers.probe(cfg.api_base.rstrip("/") + "/models", timeout=2.0)
            if found.ok and found.models:
                info = self._info(f"openai/{found.models[0]}", cfg.api_base)
            else:
                log.warning("[llm] api_base %s lists no model (%s)", cfg.api_base, found.error)
        if info is None:
            keyed = providers.keyed_providers(self.env)
            if keyed:
                info = self._info(keyed[0].default_model)
        if info is None:
            for server in self.local_servers:
                found = providers.probe(server.models_url)
                if found.ok and found.models:
                    info = self._info(server.prefix + found.models[0], server.api_base)
                    break
        if info is None and cfg.offline_model and offline.unavailable_reason() is None:
            info = self._info(offline.OFFLINE_MODEL)
        if info is None:
            raise LLMError(NO_MODEL, kind="unavailable")
        with self._lock:
            self._active = info
        log.info("model resolved: %s", info.label)
        return info

    def set_model(self, model: str) -> ModelInfo:
        """Switch to `model` (the /model command); raises LLMError if it cannot be used."""
        name, base = providers.split_target(model)
        if not name:
            raise LLMError("give a model, e.g. openai/gpt-4o-mini or ollama_chat/llama3.2")
        if name in ("offline", "smollm2", offline.OFFLINE_MODEL):
            reason = offline.unavailable_reason()
            if reason:
                raise LLMError(reason, kind="unavailable")
            name = offline.OFFLINE_MODEL
        else:
            self._check_provider(name)
            active = self._active
            cfg = self.settings.llm
            if (
                not base
                and active
                and active.api_base
                and providers.provider_name(name, active.api_base) == active.provider
            ):
                base = active.api_base  # another model on the same server
            elif not base and cfg.api_base and name == providers.split_target(cfg.model)[0]:
                base = cfg.api_base
        info = self._info(name, base)
        with self._lock:
            self._active = info
        return info

    def _check_provider(self, model: str) -> None:
        from magray_tui.llm.runtime import litellm

        try:
            litellm().get_llm_provider(model)
        except Exception:
            raise LLMError(
                f"unknown model {model!r}: write provider/model, e.g. openai/gpt-4o-mini,"
                " anthropic/claude-3-5-haiku-latest, ollama_chat/llama3.2",
                kind="bad_request",
            ) from None

    def _info(self, model: str, api_base: str = "") -> ModelInfo:
        provider = providers.provider_name(model, api_base)
        is_offline = model == offline.OFFLINE_MODEL
        return ModelInfo(
            model=model,
            label=providers.label(model, api_base),
            provider=provider,
            offline=is_offline,
            supports_tools=not is_offline and self._supports_tools(model, provider),
            api_base=api_base,
        )

    def _supports_tools(self, model: str, provider: str) -> bool:
        choice = self.settings.llm.tool_calling
        if choice != "auto":
            return choice == "on"
        if model in self._no_tools:
            return False
        from magray_tui.llm.runtime import litellm

        try:
            if litellm().supports_function_calling(model=model):
                return True
        except Exception:
            pass
        # Servers we cannot look up (vLLM, LM Studio, Ollama, any OpenAI-compatible URL) are
        # asked with tools; one that refuses them is remembered and asked without.
        return provider in providers.LOCAL_PROVIDERS

    # ---- calls ---------------------------------------------------------------------------
    def stream(
        self,
        messages: list[dict],
        *,
        tools: list[dict] | None = None,
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[StreamEvent]:
        """Stream one reply. Ends with Done; raises LLMError (after any partial text)."""
        return self._run(
            messages, tools=tools, cancel=cancel, max_tokens=max_tokens, temperature=temperature
        )

    def complete(self, messages: list[dict], *, response_format: dict | None = None) -> str:
        """The whole reply as text (distillation, planning); same retries and fallbacks."""
        extra = {"response_format": response_format} if response_format else {}
        return "".join(e.text for e in self._run(messages, extra=extra) if isinstance(e, TextDelta))

    def _chain(self, first: ModelInfo) -> list[ModelInfo]:
        chain = [first]
        for spec in self.settings.llm.fallbacks:
            model, base = providers.split_target(spec)
            if model and all((m.model, m.api_base) != (model, base) for m in chain):
                chain.append(self._info(model, base))
        if (
            self.settings.llm.offline_model
            and all(not m.offline for m in chain)
            and offline.unavailable_reason() is None
        ):
            chain.append(self._info(offline.OFFLINE_MODEL))
        return chain

    def breaker(self, info: ModelInfo) -> CircuitBreaker:
        key = f"{info.provider}|{info.api_base}"
        with self._lock:
            if key not in self._breakers:
                cfg = self.settings.llm
                self._breakers[key] = CircuitBreaker(cfg.breaker_failures, cfg.breaker_cooldown_s)
            return self._breakers[key]

    def _run(
        self,
        messages: list[dict],
        *,
        tools: list[dict] | None = None,
        cancel: threading.Event | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Iterator[StreamEvent]:
        cancel = cancel or threading.Event()
        first = self._active or self.resolve()
        errors: list[LLMError] = []
        for position, info in enumerate(self._chain(first)):
            missing = self.missing_key(info)
            if missing is not None:  # cannot work: say why, no retries, no breaker count
                errors.append(missing)
                continue
            breaker = self.breaker(info)
            if not breaker.allow():
                state = breaker.state()
                errors.append(
                    LLMError(
                        f"{info.label}: {state.describe()}", kind="circuit_open", model=info.model
                    )
                )
                continue
            if position > 0:
                yield Fallback(info.model, info.label, str(errors[-1]) if errors else "")
            try:
                yield from self._with_retries(
                    info, messages, tools, cancel, max_tokens, temperature, extra or {}
                )
            except LLMError as exc:
                metrics.count("llm.errors")
                if exc.kind in BREAKER_KINDS:
                    breaker.failure()
                else:
                    breaker.release()
                log.warning("model call failed (%s): %s", info.model, exc)
                if exc.partial or cancel.is_set():
                    raise
                errors.append(exc)
                continue
            except BaseException:
                breaker.release()
                raise
            breaker.success()
            return
        raise _summary(errors)

    def _with_retries(
        self,
        info: ModelInfo,
        messages: list[dict],
        tools: list[dict] | None,
        cancel: threading.Event,
        max_tokens: int | None,
        temperature: float | None,
        extra: dict[str, Any],
    ) -> Iterator[StreamEvent]:
        from magray_tui.llm.runtime import litellm
        from magray_tui.llm.stream import stream_once

        module = litellm()
        cfg = self.settings.llm
        if info.offline:
            offline.OfflineModel.shared(cfg.offline_threads)
        use_tools = (
            tools if (tools and info.supports_tools and info.model not in self._no_tools) else None
        )
        attempt = 0
        while True:
            request = self._request(info, messages, use_tools, max_tokens, temperature, extra)
            try:
                yield from stream_once(
                    module,
                    info,
                    request,
                    cancel=cancel,
                    timeout_s=cfg.timeout_s,
                    count=self.count_tokens,
                )
                return
            except LLMError as exc:
                if exc.partial or cancel.is_set():
                    raise
                if use_tools and exc.kind == "bad_request" and "tool" in str(exc).lower():
                    log.info("%s refused tools; asking without them", info.model)
                    self._no_tools.add(info.model)
                    self._forget_tools(info)
                    use_tools = None
                    continue
                if not exc.retryable or attempt >= cfg.max_retries:
                    raise
                delay = min(MAX_BACKOFF_S, cfg.retry_backoff_s * 2**attempt)
                delay *= 0.75 + random.random() / 2  # jitter: clients do not retry in step
                attempt += 1
                log.info("retry %d of %s in %.2f s: %s", attempt, info.model, delay, exc)
                if cancel.wait(delay):
                    yield Done("cancelled")
                    return

    def _forget_tools(self, info: ModelInfo) -> None:
        with self._lock:
            if self._active is not None and self._active.model == info.model:
                self._active = dataclasses.replace(self._active, supports_tools=False)

    def missing_key(self, info: ModelInfo) -> LLMError | None:
        """The error to give for a hosted provider's model when its API key is not in the
        environment (a call would only fail, and litellm words it as a server error)."""
        env = providers.key_env(info.provider)
        if env is None or info.api_base or info.offline or self.env.get(env, "").strip():
            return None
        return LLMError(
            f"{env} not set: {info.model} needs it (set it in the environment, or pick "
            "another model with /model)",
            kind="auth",
            model=info.model,
        )

    def _request(
        self,
        info: ModelInfo,
        messages: list[dict],
        tools: list[dict] | None,
        max_tokens: int | None,
        temperature: float | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        cfg = self.settings.llm
        request: dict[str, Any] = {
            "model": info.model,
            "messages": messages,
            "stream": True,
            "timeout": cfg.timeout_s,
            "max_retries": 0,  # retries are ours: litellm's would also retry after tokens
            "num_retries": 0,
            "max_tokens": max_tokens or cfg.max_tokens,
            "temperature": cfg.temperature if temperature is None else temperature,
            **extra,
        }
        if tools:
            request["tools"] = tools
        if info.api_base:
            request["api_base"] = info.api_base
            if info.model.startswith("openai/") and not self.env.get("OPENAI_API_KEY"):
                request["api_key"] = "no-key"  # a local server; the OpenAI SDK insists on one
        if not info.offline:
            request["stream_options"] = {"include_usage": True}
        return request

    def count_tokens(self, messages_or_text: Any) -> int:
        """Approximate tokens (cl100k) of a text or of chat messages; fast after first use."""
        return tokens.count(messages_or_text)

    # ---- status --------------------------------------------------------------------------
    def status(self, check: bool = True) -> list[ProviderStatus]:
        """Every provider found, which is active and (with `check`) a latency probe."""
        from magray_tui.llm.status import provider_statuses

        return provider_statuses(self, check=check)

    def close(self) -> None:
        with self._lock:
            self._breakers.clear()


def _summary(errors: list[LLMError]) -> LLMError:
    if not errors:
        return LLMError(NO_MODEL, kind="unavailable")
    first = errors[0]
    if len(errors) == 1:
        return first
    others = "; ".join(str(e) for e in errors[1:])
    return LLMError(
        f"{first} (fallbacks failed too: {others})",
        kind=first.kind,
        retryable=first.retryable,
        model=first.model,
    )
