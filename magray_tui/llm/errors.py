"""litellm's exceptions → `LLMError` with one readable line (and never a key in it).

litellm wraps each provider's errors in its own classes (named after OpenAI's) and chains
the transport error underneath; we look at both, by class name so this module does not
import litellm.
"""

from __future__ import annotations

import re
import socket

from magray_tui.llm.events import LLMError
from magray_tui.llm.providers import key_env, provider_name
from magray_tui.llm.runtime import redact

# kinds worth another try (same model) before the first token
RETRYABLE = {"connect", "rate_limit", "server", "timeout"}
# kinds that say the provider is unwell: they count towards its circuit breaker
BREAKER_KINDS = {"connect", "dns", "rate_limit", "server", "timeout", "stalled", "truncated"}

_DNS_TEXT = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "getaddrinfo failed",
    "no address associated",
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 12:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def _names(chain: list[BaseException]) -> set[str]:
    return {cls.__name__ for e in chain for cls in type(e).__mro__}


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # "litellm.BadRequestError: OpenAIException - Error code: 400 - {...}" → the useful end
    text = re.sub(r"^litellm\.\w+:\s*", "", text)
    text = re.sub(r"^\w+Exception\s*-\s*", "", text)
    text = redact(text)
    return text if len(text) <= 200 else text[:199] + "…"


def where(model: str, api_base: str) -> str:
    return api_base or provider_name(model, api_base)


def classify(
    exc: BaseException, *, model: str, api_base: str = "", timeout_s: float | None = None
) -> LLMError:
    """The readable LLMError for an exception raised by a litellm call."""
    if isinstance(exc, LLMError):
        return exc
    chain = _chain(exc)
    names = _names(chain)
    text = " ".join(str(e) for e in chain).lower()
    status = next((s for e in chain if isinstance(s := getattr(e, "status_code", None), int)), None)
    provider = provider_name(model, api_base)
    place = where(model, api_base)
    short_model = model.split("/", 1)[-1]
    who = f"the server at {api_base}" if api_base else provider

    def err(message: str, kind: str) -> LLMError:
        return LLMError(redact(message), kind=kind, retryable=kind in RETRYABLE, model=model)

    if any(isinstance(e, socket.gaierror) for e in chain) or any(t in text for t in _DNS_TEXT):
        return err(f"cannot find the server {place} (DNS lookup failed)", "dns")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return err(f"the server at {place} refused the connection", "connect")
    if "incomplete chunked read" in text or "peer closed connection" in text:
        return err(f"the connection to {place} was cut mid-reply", "truncated")
    if "ContextWindowExceededError" in names:
        return err(f"the conversation is too long for {short_model}", "bad_request")
    if "AuthenticationError" in names or status == 401:
        env = key_env("openai" if provider == "openai-compatible" else provider)
        hint = f" (check {env})" if env else ""
        if api_base and provider in ("openai-compatible", "vllm", "lmstudio", "ollama"):
            return err(f"the server at {place} rejected the API key{hint}", "auth")
        return err(f"the API key for {provider} was rejected{hint}", "auth")
    if "PermissionDeniedError" in names or status == 403:
        return err(f"{who} denied access to {short_model} (HTTP 403)", "auth")
    if "NotFoundError" in names or status == 404:
        return err(f"the model {short_model} was not found at {place}", "not_found")
    if "RateLimitError" in names or status == 429:
        return err(f"{who} is rate-limiting requests (HTTP 429); try again soon", "rate_limit")
    if {"Timeout", "APITimeoutError", "TimeoutError", "TimeoutException"} & names or (
        "timed out" in text
    ):
        limit = f" within {timeout_s:g} s" if timeout_s else " in time"
        return err(f"{place} did not answer{limit}", "timeout")
    if status is not None and status >= 500:
        return err(f"the server at {place} failed (HTTP {status})", "server")
    if {"InternalServerError", "ServiceUnavailableError", "BadGatewayError"} & names:
        return err(f"the server at {place} failed ({_short(exc)})", "server")
    if "APIConnectionError" in names or any(isinstance(e, ConnectionError) for e in chain):
        return err(f"cannot reach {place}: {_short(exc)}", "connect")
    if "BadRequestError" in names or status == 400:
        return err(f"{who} refused the request: {_short(exc)}", "bad_request")
    if "UnsupportedParamsError" in names:
        return err(f"{who} refused the request: {_short(exc)}", "bad_request")
    return err(f"{who}: the call failed: {_short(exc)}", "other")
