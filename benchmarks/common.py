"""Shared helpers for the benchmarks: temp homes, timing, result files, tables, corpora.

Every benchmark runs on a fresh temporary MAGRAY_HOME, on the CPU, with the packaged
embedding model (no downloads), and writes `benchmarks/results/NAME.json`.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

if str(REPO) not in sys.path:  # `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(REPO))
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))


# ---- homes and settings ---------------------------------------------------------------------
@contextlib.contextmanager
def temp_home(prefix: str = "magray-bench-") -> Iterator[Path]:
    """A fresh MAGRAY_HOME, removed afterwards (MAGRAY_KEEP_BENCH_HOME=1 keeps it)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    old = os.environ.get("MAGRAY_HOME")
    os.environ["MAGRAY_HOME"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("MAGRAY_HOME", None)
        else:
            os.environ["MAGRAY_HOME"] = old
        if not os.environ.get("MAGRAY_KEEP_BENCH_HOME"):
            shutil.rmtree(path, ignore_errors=True)


def bench_settings(home: Path, *, threads: int | None = None, **memory: Any):
    """Settings for a benchmark home: CPU only; `threads` overrides the onnxruntime
    intra-op threads (None keeps the default); `memory` overrides memory settings."""
    from magray_tui.config import load_settings

    embedding: dict[str, Any] = {"device": "cpu"}
    if threads is not None:
        embedding["intra_op_threads"] = threads
    flags: dict[str, Any] = {"embedding": embedding}
    if memory:
        flags["memory"] = memory
    return load_settings(home, **flags)


def load_cpu_embedder(home: Path, threads: int | None = None):
    from magray_tui.ai import load_embedder

    return load_embedder(bench_settings(home, threads=threads))


# ---- timing -----------------------------------------------------------------------------------
def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    if not len(values_ms):
        return {"n": 0}
    a = np.asarray(values_ms, dtype=np.float64)
    return {
        "n": int(a.size),
        "p50": round(float(np.percentile(a, 50)), 4),
        "p95": round(float(np.percentile(a, 95)), 4),
        "p99": round(float(np.percentile(a, 99)), 4),
        "mean": round(float(a.mean()), 4),
        "max": round(float(a.max()), 4),
    }


class Stopwatch:
    """`with Stopwatch() as sw: ...; sw.seconds`"""

    def __enter__(self) -> Stopwatch:
        self.t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# ---- results ----------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        info["git"] = rev or None
    return info


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write `results/NAME.json` atomically, with when and where it was measured."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **data,
    }
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=2, default=_json_default) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path | datetime):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1
) -> None:
    """A plain text table; the first `left` columns are left-aligned, the rest right."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in cells:
        print(
            "  ".join(
                c.ljust(w) if i < left else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    sys.stdout.flush()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return "-" if value is None else str(value)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# ---- data -------------------------------------------------------------------------------------
def locomo_dir() -> Path:
    """LoCoMo conversations: $MAGRAY_LOCOMO_DIR, else ../shared/data/locomo from the repo."""
    env = os.environ.get("MAGRAY_LOCOMO_DIR")
    candidates = [Path(env).expanduser()] if env else []
    candidates += [
        REPO.parent / "shared" / "data" / "locomo",
        REPO / "shared" / "data" / "locomo",
    ]
    for path in candidates:
        if path.is_dir() and any(path.glob("conv-*.json")):
            return path
    raise FileNotFoundError(
        "LoCoMo data not found; set MAGRAY_LOCOMO_DIR to the folder holding conv-*.json "
        f"(looked in: {', '.join(map(str, candidates))})"
    )


def locomo_conversations() -> list[tuple[str, dict[str, Any]]]:
    return [
        (p.stem, json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(locomo_dir().glob("conv-*.json"))
    ]


def locomo_sessions(conv: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(session key, date text, turns) for every session that has turns, in order."""
    keys = [k for k in conv if re.fullmatch(r"session_\d+", k) and isinstance(conv[k], list)]
    keys.sort(key=lambda k: int(k.split("_")[1]))
    return [(k, conv.get(f"{k}_date_time", ""), conv[k]) for k in keys]


def turn_text(turn: dict[str, Any]) -> str:
    text = f"{turn['speaker']}: {turn['text']}"
    if turn.get("blip_caption"):
        text += f" [shares a photo: {turn['blip_caption']}]"
    return text


def locomo_turn_texts() -> list[str]:
    return [
        turn_text(t)
        for _, conv in locomo_conversations()
        for _, _, turns in locomo_sessions(conv)
        for t in turns
    ]


def locomo_questions() -> list[str]:
    return [q["question"] for _, conv in locomo_conversations() for q in conv["qa"]]


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_CODEY = re.compile(r"[{}<>=`|\\]|::|\.\.\s|>>>|https?://|\w+\(|_\w+_|\s{2,}")


def site_packages() -> Path | None:
    for p in map(Path, sys.path):
        if p.name == "site-packages" and p.is_dir():
            return p
    return None


def docstring_sentences(limit: int = 5000, seed: int = 0, max_files: int = 4000) -> list[str]:
    """Prose sentences from docstrings of the installed packages (deterministic).

    Real English about real software: a stand-in for notes a developer keeps in memory.
    """
    root = site_packages()
    if root is None:
        return []
    files = sorted(root.rglob("*.py"))
    rng = random.Random(seed)
    rng.shuffle(files)
    seen: set[str] = set()
    out: list[str] = []
    for path in files[:max_files]:
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                continue
            doc = ast.get_docstring(node, clean=True)
            if not doc:
                continue
            para = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
            for sent in _SENTENCE.split(para):
                sent = sent.strip()
                if not 40 <= len(sent) <= 240 or _CODEY.search(sent) or not sent[0].isupper():
                    continue
                if sum(c.isalpha() or c == " " for c in sent) < 0.9 * len(sent):
                    continue
                if sent in seen:
                    continue
                seen.add(sent)
                out.append(sent)
        if len(out) >= limit * 2:
            break
    rng.shuffle(out)
    return out[:limit]
