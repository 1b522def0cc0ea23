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


# How close a query and a memory are, in words a person can read: cosine similarity of
# all-MiniLM-L6-v2 sentence vectors. The fused score only ranks (the top hit is always
# 1.00, even at cosine 0.18), so the table shows this instead and keeps the fused order.
COSINE_BANDS = ((0.6, "strong", "●●●"), (0.45, "good", "●●○"), (0.3, "weak", "●○○"))
FAINT = ("faint", "○○○")


def cosine_band(cosine: float) -> tuple[str, str]:
    """(word, dots) for a cosine similarity: strong, good, weak or faint."""
    for floor, word, dots in COSINE_BANDS:
        if cosine >= floor:
            return word, dots
    return FAINT


def match_cell(parts: dict[str, Any] | None) -> str:
    """The table's `match` cell: `●●○ 0.52` (vector cosine), `kw 7.1` (BM25 only), or ''
    for a listed (not searched) record."""
    if not parts:
        return ""
    if parts.get("vector_rank") is not None:
        return f"{cosine_band(parts['vector'])[1]} {parts['vector']:.2f}"
    if parts.get("keyword_rank") is not None:
        return f"kw {parts['keyword']:.1f}"
    return ""


def score_lines(parts: dict[str, Any] | None, score: float | None) -> list[str]:
    """Why a hit matched, one line per signal: vector rank/cosine (and its band), BM25
    rank/score, and the fusion that orders the results."""
    if not parts:
        return ["listed, not searched (no score)"]
    lines = []
    hybrid = parts.get("fused") is not None
    if parts.get("vector_rank") is not None:
        word = cosine_band(parts["vector"])[0]
        rank = parts["vector_rank"]
        lines.append(f"vector   rank {rank:>3}  cosine {parts['vector']:.3f} ({word} match)")
    elif hybrid:
        lines.append("vector   no match")
    if parts.get("keyword_rank") is not None:
        lines.append(f"BM25     rank {parts['keyword_rank']:>3}  score  {parts['keyword']:.3f}")
    elif hybrid:
        lines.append("BM25     no match (none of the words)")
    if hybrid:
        lines.append(f"fused    RRF {parts['fused']:.4f} (orders the results)")
    if parts.get("superseded") is not None:
        lines.append(f"older    × {parts['superseded']:g}: a newer memory supersedes it")
    return lines


CYCLE_ACTIONS = ("promote", "merge", "supersede", "expire")


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
