"""How fast hostile import lines are refused (issue 12, item 12).

Tag de-duplication used to be quadratic (`if tag not in out` on a list) and ran to the end
before the "at most 64 tags" check: 100k tags took ~50 s. The baseline below is that code,
copied verbatim, timed in the same run as the current `normalize_tags` and the whole line
check (`json.loads` + `prepare`), so the ratio is measured on the same machine and load.

    .venv/bin/python benchmarks/bench_hostile_input.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import print_table, write_result

from magray_tui.memory.items import MAX_TAG_LEN, MAX_TAGS, normalize_tags, prepare
from magray_tui.memory.records import MemoryError_


def baseline_normalize_tags(tags: Any) -> tuple[str, ...]:
    """normalize_tags as it was on main before the fix (quadratic, late refusal)."""
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LEN:
            raise MemoryError_("tag too long")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise MemoryError_(f"too many tags ({len(out)}, at most {MAX_TAGS})")
    return tuple(out)


def timed(fn, *args) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        fn(*args)
        outcome = "accepted"
    except MemoryError_ as exc:
        outcome = str(exc)
    return time.perf_counter() - start, outcome


def run(quick: bool) -> dict[str, Any]:
    rows, results = [], []
    baseline_sizes = (1_000, 2_000, 4_000) if quick else (1_000, 2_000, 4_000, 8_000, 16_000)
    for n in baseline_sizes:
        tags = [f"tag-{i}" for i in range(n)]
        old_s, _ = timed(baseline_normalize_tags, tags)
        new_s, outcome = timed(normalize_tags, tags)
        results.append({"tags": n, "baseline_s": old_s, "now_s": new_s, "now": outcome})
        rows.append((f"{n:,} unique", f"{old_s * 1e3:,.1f}", f"{new_s * 1e3:,.3f}", outcome))
    for n in (100_000, 1_000_000):
        tags = [f"tag-{i}" for i in range(n)]
        new_s, outcome = timed(normalize_tags, tags)
        line = json.dumps({"text": "t", "tags": tags})
        start = time.perf_counter()
        with contextlib.suppress(MemoryError_):
            prepare(json.loads(line), now=datetime(2026, 1, 1), max_bytes=1_000_000)
        line_s = time.perf_counter() - start
        results.append({"tags": n, "now_s": new_s, "whole_line_s": line_s, "now": outcome})
        rows.append((f"{n:,} unique", "(not run)", f"{new_s * 1e3:,.3f}", outcome))
        rows.append((f"  whole line ({len(line) / 1e6:.1f} MB)", "", f"{line_s * 1e3:,.1f}", ""))
    # Linear on a list just under the refusal size with many repeats.
    repeats = [f"t{i % 64}" for i in range(1_024)]
    new_s, outcome = timed(normalize_tags, repeats)
    old_s, _ = timed(baseline_normalize_tags, repeats)
    rows.append(("1,024 with repeats", f"{old_s * 1e3:,.3f}", f"{new_s * 1e3:,.3f}", outcome))
    results.append({"tags": 1024, "repeats": True, "baseline_s": old_s, "now_s": new_s})
    print_table("tag checks (ms)", ("input", "baseline", "now", "outcome"), rows)
    load = Path("/proc/loadavg").read_text().split()[:3] if os.path.exists("/proc/loadavg") else []
    return {"quick": quick, "loadavg": load, "cases": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    data = run(quick)
    write_result("hostile_input_quick" if quick else "hostile_input", data)


if __name__ == "__main__":
    main()
