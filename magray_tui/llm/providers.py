"""Which providers exist and how to find them: keys in the environment, local servers.

Resolution order (ARCHITECTURE §5): explicit config → a provider key in the environment →
a local server that answers → the embedded offline model. Probes use the standard library
with short timeouts, so a missing server costs milliseconds, not seconds.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from magray_tui.llm.offline import OFFLINE_LABEL, OFFLINE_MODEL
from magray_tui.llm.offline import PROVIDER as OFFLINE_PROVIDER


@dataclass(frozen=True)
class KeyProvider:
    """A hosted provider used when its key is in the environment."""

    name: str
    env: str
    default_model: str
    models_url: str
    auth_header: str  # "authorization" (Bearer) or "x-api-key"


KEY_PROVIDERS = (
    KeyProvider(
        "openai", "OPENAI_API_KEY", "openai/gpt-4o-mini", "https://api.openai.com/v1/models",
        "authorization",
    ),
    KeyProvider(
        "anthropic", "ANTHROPIC_API_KEY", "anthropic/claude-3-5-haiku-latest",
        "https://api.anthropic.com/v1/models", "x-api-key",
    ),
    KeyProvider(
        "groq", "GROQ_API_KEY", "groq/llama-3.1-8b-instant",
        "https://api.groq.com/openai/v1/models", "authorization",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class LocalServer:
    """A server on this machine, found by asking for its model list."""

    name: str
    models_url: str
    prefix: str  # litellm provider prefix for its models
    api_base: str


LOCAL_SERVERS = (
    LocalServer("ollama", "http://127.0.0.1:11434/api/tags", "ollama_chat/",
                "http://127.0.0.1:11434"),
    LocalServer("lmstudio", "http://127.0.0.1:1234/v1/models", "lm_studio/",
                "http://127.0.0.1:1234/v1"),
    LocalServer("vllm", "http://127.0.0.1:8000/v1/models", "hosted_vllm/",
                "http://127.0.0.1:8000/v1"),
)  # fmt: skip

# litellm prefix -> the provider name people know
_PREFIX_NAMES = {
    "ollama_chat": "ollama",
    "ollama": "ollama",
    "lm_studio": "lmstudio",
    "hosted_vllm": "vllm",
    OFFLINE_PROVIDER: "offline",
}
# Provider names whose endpoints are the caller's own servers.
LOCAL_PROVIDERS = {"ollama", "lmstudio", "vllm", "openai-compatible"}


@dataclass(frozen=True)
class Probe:
    ok: bool
    status: int | None
    latency_ms: float | None
    models: list[str] = field(default_factory=list)
    error: str = ""


def probe(url: str, headers: Mapping[str, str] | None = None, timeout: float = 0.4) -> Probe:
    """GET a model list; never raises. `ok` means it answered 2xx with JSON."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    start = time.perf_counter()
    try:
        # The URL comes from our own table or from the user's config: no file:// surprises.
        if urlsplit(url).scheme not in ("http", "https"):
            return Probe(False, None, None, error="not an http(s) URL")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(1_000_000)
            status = response.status
    except urllib.error.HTTPError as exc:
        ms = (time.perf_counter() - start) * 1000
        return Probe(False, exc.code, ms, error=f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Probe(False, None, None, error=str(reason) or type(exc).__name__)
    ms = (time.perf_counter() - start) * 1000
    try:
        data = json.loads(body)
    except ValueError:
        return Probe(False, status, ms, error="not a JSON model list")
    return Probe(True, status, ms, models=_model_ids(data))


def _model_ids(data: object) -> list[str]:
    if not isinstance(data, dict):
        return []
    items = data.get("data") or data.get("models") or []
    ids = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            name = item.get("id") or item.get("name") or item.get("model")
            if isinstance(name, str) and name:
                ids.append(name)
    return ids


def key_headers(provider: KeyProvider, key: str) -> dict[str, str]:
    if provider.auth_header == "x-api-key":
        return {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return {"Authorization": f"Bearer {key}"}


def keyed_providers(env: Mapping[str, str] | None = None) -> list[KeyProvider]:
    env = os.environ if env is None else env
    return [p for p in KEY_PROVIDERS if env.get(p.env, "").strip()]


def split_target(spec: str) -> tuple[str, str]:
    """`"model"` or `"model@http://host:port/v1"` (a fallback on its own server) → parts."""
    spec = spec.strip()
    for scheme in ("@http://", "@https://"):
        model, sep, rest = spec.partition(scheme)
        if sep:
            return model.strip(), scheme[1:] + rest.strip()
    return spec, ""


def provider_name(model: str, api_base: str = "") -> str:
    prefix = model.split("/", 1)[0] if "/" in model else "openai"
    name = _PREFIX_NAMES.get(prefix, prefix)
    if name == "openai" and api_base and "api.openai.com" not in api_base:
        return "openai-compatible"
    return name


def label(model: str, api_base: str = "") -> str:
    if model == OFFLINE_MODEL:
        return OFFLINE_LABEL
    if api_base:
        host = urlsplit(api_base).netloc or api_base
        return f"{model} @ {host}"
    return model


def key_env(provider: str) -> str | None:
    for p in KEY_PROVIDERS:
        if p.name == provider:
            return p.env
    return None
