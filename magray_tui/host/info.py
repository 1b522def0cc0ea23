"""What a client may ask about the host itself: who it is, its model, its health."""

from __future__ import annotations

from typing import Any


class HostInfo:
    def __init__(self, host: Any) -> None:
        self.host = host

    def ping(self) -> int:
        return self.host.pid

    def info(self) -> dict[str, Any]:
        memory = self.host.services.memory
        embedder = memory.embedder
        return {
            "pid": self.host.pid,
            "model_id": embedder.model_id,
            "dim": embedder.dim,
            "provider": str(getattr(embedder, "provider", "")),
            "device": getattr(embedder, "device", None),  # a DeviceDecision
            "db_file": str(memory.store.path),
        }

    def health(self, llm: bool = True) -> tuple[Any, Any]:
        """`magray health` beside this host: the checks and live metrics of this process."""
        from magray_tui.monitor.health import run_checks
        from magray_tui.monitor.health_live import collect_live, counts_of

        services = self.host.services
        report = run_checks(services.settings, services, llm=llm, probe=True)
        return report, collect_live(services.memory, counts=counts_of(report))
