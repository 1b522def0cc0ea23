"""Plain-text formatting of memory fields for tables and panels (no markup anywhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from magray_tui.terminal_text import one_line


def age(then: datetime | None, now: datetime) -> str:
    """A compact age like `45s`, `12m`, `3h`, `5d`, `8w`, `2y`."""
    if then is None:
        return "-"
    seconds = max((now - then).total_seconds(), 0.0)
    for unit, size in (("y", 31_536_000), ("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def snippet(text: str, width: int = 70) -> str:
    """One line of `text`: whitespace collapsed, control characters made visible, cut
    with an ellipsis."""
    return one_line(text, width)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def score_lines(parts: dict[str, Any] | None, score: float | None) -> list[str]:
    """Why a hit matched, one line per signal: vector rank/cosine, BM25 rank/score, fusion."""
    if not parts:
        return ["listed, not searched (no score)"]
    lines = []
    hybrid = parts.get("fused") is not None
    for key, name, label in (("vector", "vector  ", "cosine"), ("keyword", "BM25    ", "score ")):
        if parts.get(f"{key}_rank") is not None:
            lines.append(f"{name} rank {parts[f'{key}_rank']:>3}  {label} {parts[key]:.3f}")
        elif hybrid:
            lines.append(f"{name} no match")
    if hybrid:
        lines.append(f"fused    RRF {parts['fused']:.4f}  → score {score:.2f} of 1")
    return lines


CYCLE_ACTIONS = ("promote", "merge", "expire")


def cycle_counts(counts: dict[str, int]) -> str:
    """`3 promote, 1 merge, 12 expire` in that order (zeros left out), or `nothing`."""
    order = [*CYCLE_ACTIONS, *sorted(set(counts) - set(CYCLE_ACTIONS))]
    return ", ".join(f"{counts[a]} {a}" for a in order if counts.get(a)) or "nothing"


def policy_line(status: Any, promotion: Any) -> str:
    """Which promotion policy is active and why, with the default's thresholds."""
    name = "learned" if status.active else "default"
    return (
        f"policy: {name} — {status.why}. Thresholds: interact→insights "
        f"{promotion.to_insights:.2f}, insights→assets {promotion.to_assets:.2f}; "
        f"a cycle runs every {promotion.cycle_minutes:g} min."
    )
