"""What `magray llm status` and the Health pane show: every provider found, the active one,
a latency probe (its model list endpoint) and a paused circuit breaker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from magray_tui.llm import offline, providers
from magray_tui.llm.events import ModelInfo, ProviderStatus

if TYPE_CHECKING:
    from magray_tui.config import Settings


class LLMClient(Protocol):
    """What the status needs from the client (`client.LLMClient` is one; a protocol keeps
    client → status the only import between them)."""

    settings: Settings
    env: Mapping[str, str]
    local_servers: Sequence[Any]

    @property
    def active(self) -> ModelInfo | None: ...

    def breaker(self, info: ModelInfo) -> Any: ...


KEY_PROBE_TIMEOUT_S = 3.0


def _models_url(api_base: str) -> str:
    base = api_base.rstrip("/")
    if base.endswith(":11434"):  # Ollama's native API
        return base + "/api/tags"
    return base + "/models"


def _breaker_note(client: LLMClient, info: ModelInfo) -> str:
    return client.breaker(info).state().describe()


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def provider_statuses(client: LLMClient, *, check: bool = True) -> list[ProviderStatus]:
    cfg = client.settings.llm
    active = client.active
    rows: list[ProviderStatus] = []
    seen: set[str] = set()

    def is_active(model: str, base: str = "") -> bool:
        return active is not None and active.model == model and active.api_base == base

    if cfg.model:
        model, base = providers.split_target(cfg.model)
        base = base or cfg.api_base
        info = ModelInfo(
            model,
            providers.label(model, base),
            providers.provider_name(model, base),
            model == offline.OFFLINE_MODEL,
            False,
            base,
        )
        reachable, latency, note = None, None, "explicit [llm] model"
        if check and base:
            found = providers.probe(_models_url(base), timeout=KEY_PROBE_TIMEOUT_S)
            reachable, latency = found.ok, found.latency_ms
            note = _join(note, "" if found.ok else f"not reachable: {found.error}")
        rows.append(
            ProviderStatus(
                info.provider,
                model,
                True,
                reachable,
                latency,
                is_active(model, base),
                _join(note, _breaker_note(client, info)),
            )
        )
        seen.add(info.provider)

    for provider in providers.KEY_PROVIDERS:
        key = client.env.get(provider.env, "").strip()
        if provider.name in seen:
            continue
        reachable, latency, note = None, None, f"{provider.env} not set"
        if key:
            note = f"key in {provider.env}"
            if check:
                found = providers.probe(
                    provider.models_url, providers.key_headers(provider, key), KEY_PROBE_TIMEOUT_S
                )
                reachable, latency = found.ok, found.latency_ms
                if found.status in (401, 403):
                    note = f"the key in {provider.env} was rejected (HTTP {found.status})"
                elif not found.ok:
                    note = _join(note, f"not reachable: {found.error}")
        rows.append(
            ProviderStatus(
                provider.name,
                provider.default_model,
                bool(key),
                reachable,
                latency,
                is_active(provider.default_model),
                note,
            )
        )

    for server in client.local_servers:
        if not check:
            rows.append(ProviderStatus(server.name, "", False, None, None, False, "not checked"))
            continue
        found = providers.probe(server.models_url)
        model = server.prefix + found.models[0] if found.models else ""
        note = f"{len(found.models)} model(s) at {server.api_base}" if found.ok else "not running"
        rows.append(
            ProviderStatus(
                server.name,
                model,
                found.ok,
                found.ok,
                found.latency_ms,
                bool(model) and is_active(model, server.api_base),
                note,
            )
        )

    reason = offline.unavailable_reason()
    loaded = offline.OfflineModel._instance is not None and offline.OfflineModel._instance.loaded
    rows.append(
        ProviderStatus(
            "offline",
            offline.OFFLINE_MODEL,
            reason is None and cfg.offline_model,
            True if loaded else None,
            None,
            is_active(offline.OFFLINE_MODEL),
            reason
            or ("disabled ([llm] offline_model = false)" if not cfg.offline_model else "")
            or ("loaded" if loaded else "installed; loads on first use"),
        )
    )
    return rows
