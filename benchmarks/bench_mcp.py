"""`memory_search` over MCP vs the same search in-process, at 10k records (target: MCP adds
≤ 10 ms at p50).

The store is the cached 10k-record benchmark home (`bench_tui.build_100k`, built once from
precomputed vectors). In-process: `MemoryService.search(q, k=10)` in this process. Over
MCP: `magray mcp` started as a subprocess by the official SDK `Client` over stdio, timing
`call_tool("memory_search", {"query": q, "k": 10})` from the client's side (JSON-RPC over
pipes, argument validation, the policy check, a worker thread, the result as JSON). DuckDB
allows one process on a home, so the phases run in turn: in-process, MCP, in-process again
(the second pass shows the drift a shared machine adds). Every query is new text to each
process, so each search embeds its query; warm-up queries are not measured.

    .venv/bin/python benchmarks/bench_mcp.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine_info, percentiles, print_table, write_result

REPO = Path(__file__).resolve().parents[1]


def queries(n: int) -> list[str]:
    try:
        from common import locomo_questions

        found = list(dict.fromkeys(locomo_questions()))
    except FileNotFoundError:  # no LoCoMo here: plain synthetic questions
        found = []
    topics = ["deploy", "database", "holiday", "marathon", "painting", "budget", "backup"]
    found += [f"what did we decide about the {t} in week {i}?" for i in range(60) for t in topics]
    return found[:n]


def in_process(home: Path, warm: list[str], measured: list[str]) -> list[float]:
    from common import bench_settings

    from magray_tui.memory import MemoryService

    with MemoryService.open(settings=bench_settings(home)) as memory:
        for q in warm:
            memory.search(q, k=10)
        samples = []
        for q in measured:
            t0 = time.perf_counter()
            memory.search(q, k=10)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


async def over_mcp(home: Path, warm: list[str], measured: list[str]) -> dict[str, Any]:
    from mcp import Client, StdioServerParameters
    from mcp_types import Implementation

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "magray_tui.cli", "mcp"],
        env={
            "MAGRAY_HOME": str(home),
            "PYTHONPATH": str(REPO),
            "MAGRAY_EMBEDDING__DEVICE": "cpu",
        },
    )
    me = Implementation(name="bench", version="1")
    t0 = time.perf_counter()
    async with Client(params, client_info=me) as client:
        connect_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = await client.call_tool("memory_search", {"query": warm[0], "k": 10})
        first_call_s = time.perf_counter() - t0
        assert not first.is_error, first.content
        for q in warm[1:]:
            await client.call_tool("memory_search", {"query": q, "k": 10})
        samples = []
        for q in measured:
            t0 = time.perf_counter()
            result = await client.call_tool("memory_search", {"query": q, "k": 10})
            samples.append((time.perf_counter() - t0) * 1000)
            assert not result.is_error, result.content
    return {"samples": samples, "connect_s": connect_s, "first_call_s": first_call_s}


def run(quick: bool) -> dict[str, Any]:
    import anyio
    from bench_tui import build_100k

    n = 10_000
    home = build_100k(n, True)
    os.environ["MAGRAY_HOME"] = str(home)
    count = 60 if quick else 200
    qs = queries(count * 3 + 30)
    warm_a, warm_m, warm_b = qs[:10], qs[10:20], qs[20:30]
    set_a, set_m, set_b = qs[30 : 30 + count], qs[30 + count : 30 + 2 * count], qs[30 + 2 * count :]
    load_before = os.getloadavg()
    a = in_process(home, warm_a, set_a)
    mcp = anyio.run(over_mcp, home, warm_m, set_m)
    b = in_process(home, warm_b, set_b)
    inproc = percentiles(a + b)
    over = percentiles(mcp["samples"])
    return {
        "records": n,
        "queries_per_phase": count,
        "in_process": inproc,
        "in_process_first_pass": percentiles(a),
        "in_process_second_pass": percentiles(b),
        "over_mcp": over,
        "added_p50_ms": round(over["p50"] - inproc["p50"], 2),
        "added_p95_ms": round(over["p95"] - inproc["p95"], 2),
        "mcp_connect_s": round(mcp["connect_s"], 2),
        "mcp_first_call_s": round(mcp["first_call_s"], 2),
        "target_added_p50_ms": 10.0,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "machine": machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 queries per phase, not 200")
    args = parser.parse_args()
    result = run(args.quick)
    rows = [
        ["in-process", result["in_process"]["p50"], result["in_process"]["p95"]],
        ["over MCP (stdio)", result["over_mcp"]["p50"], result["over_mcp"]["p95"]],
        ["added by MCP", result["added_p50_ms"], result["added_p95_ms"]],
    ]
    path = write_result("mcp_quick" if args.quick else "mcp", result)
    print_table("memory_search at 10k records", ["", "p50 ms", "p95 ms"], rows)
    print(f"connect {result['mcp_connect_s']} s, first call {result['mcp_first_call_s']} s")
    print(f"load average before/after: {result['loadavg_before']} / {result['loadavg_after']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
