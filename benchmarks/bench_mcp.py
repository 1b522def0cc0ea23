"""`memory_search` over MCP vs the same search in-process, at 10k records (target: MCP adds
≤ 10 ms at p50).

The store is the cached 10k-record benchmark home (`bench_tui.build_100k`, built once from
precomputed vectors). Over MCP: `magray mcp` started as a subprocess by the official SDK
`Client` over stdio, timing `call_tool("memory_search", {"query": q, "k": 10})` from the
client's side (JSON-RPC over pipes, argument validation, the policy check, a worker thread,
the hits as JSON). In-process: `MemoryService.search(q, k=10)` in this process on an
identical copy of the home (DuckDB allows one process per file). Each query is run on both
sides back to back, alternating which goes first, so both see the same load on a shared
machine. Two passes over the same questions: "cold" (new text: each side embeds the query
itself, as a real call does) and "warm" (the same text again: the query embedding comes
from each side's cache, so the search is small and the MCP cost stands out), then
`memory_get` of one id, which is nearly all protocol. The paired difference (MCP minus
in-process, call by call) is the cost MCP adds.

    .venv/bin/python benchmarks/bench_mcp.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
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


async def paired(home: Path, copy: Path, warm: list[str], measured: list[str]) -> dict[str, Any]:
    """Each query once in-process (on `copy`, an identical copy of the home: DuckDB allows
    one process per file) and once over MCP (on `home`), alternating which goes first, so
    both see the same machine load; each side embeds the query itself (no shared cache)."""
    from common import bench_settings
    from mcp import Client, StdioServerParameters
    from mcp_types import Implementation

    from magray_tui.memory import MemoryService

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
    passes: dict[str, tuple[list[float], list[float]]] = {"cold": ([], []), "warm": ([], [])}
    ids: list[str] = []
    with MemoryService.open(settings=bench_settings(copy)) as memory:
        t0 = time.perf_counter()
        async with Client(params, client_info=me) as client:
            connect_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            first = await client.call_tool("memory_search", {"query": warm[0], "k": 10})
            first_call_s = time.perf_counter() - t0
            assert not first.is_error, first.content
            for q in warm:
                memory.search(q, k=10)
                await client.call_tool("memory_search", {"query": q, "k": 10})
            # cold: new text, each side embeds it; warm: the same texts again, so the query
            # embedding comes from each side's cache and the search itself is small.
            for name in ("cold", "warm"):
                local, remote = passes[name]
                for i, q in enumerate(measured):
                    for side in (0, 1) if i % 2 else (1, 0):
                        t0 = time.perf_counter()
                        if side == 0:
                            hits = memory.search(q, k=10)
                            local.append((time.perf_counter() - t0) * 1000)
                        else:
                            args = {"query": q, "k": 10}
                            result = await client.call_tool("memory_search", args)
                            remote.append((time.perf_counter() - t0) * 1000)
                            assert not result.is_error, result.content
                            ids = [h["id"] for h in json.loads(result.content[0].text)["hits"]]
                    if i == 0:  # the same store answers the same
                        assert ids == [h.record.id for h in hits], (ids, hits)
            # The protocol alone: memory_get of one id (no embedding, one indexed row).
            rid = ids[0]
            local, remote = passes["get"] = ([], [])
            for i in range(len(measured)):
                for side in (0, 1) if i % 2 else (1, 0):
                    t0 = time.perf_counter()
                    if side == 0:
                        memory.get(rid, count_access=False)
                        local.append((time.perf_counter() - t0) * 1000)
                    else:
                        result = await client.call_tool("memory_get", {"id": rid})
                        remote.append((time.perf_counter() - t0) * 1000)
                        assert not result.is_error, result.content
    out: dict[str, Any] = {"connect_s": connect_s, "first_call_s": first_call_s}
    for name, (local, remote) in passes.items():
        out[name] = {
            "in_process": percentiles(local),
            "over_mcp": percentiles(remote),
            "paired_difference_ms": percentiles(
                [r - m for r, m in zip(remote, local, strict=True)]
            ),
        }
    return out


def run(quick: bool) -> dict[str, Any]:
    import anyio
    from bench_tui import build_100k

    n = 10_000
    home = build_100k(n, True)
    count = 60 if quick else 300
    qs = queries(count + 10)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="magray-bench-mcp-") as tmp:
        copy = Path(tmp) / "home"
        shutil.copytree(home, copy, ignore=shutil.ignore_patterns("logs", "*.lock"))
        got = anyio.run(paired, home, copy, qs[:10], qs[10:])
    result = {
        "records": n,
        "queries": count,
        "cold": got["cold"],
        "warm": got["warm"],
        "memory_get": got["get"],
        "mcp_connect_s": round(got["connect_s"], 2),
        "mcp_first_call_s": round(got["first_call_s"], 2),
        "target_added_p50_ms": 10.0,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "machine": machine_info(),
        "quick": quick,
        "checks": {
            f"mcp_added_p50_ms_{name}": {
                "value": got[name]["paired_difference_ms"]["p50"],
                "target": "<= 10",
                "pass": got[name]["paired_difference_ms"]["p50"] <= 10.0,
            }
            for name in ("cold", "warm")
        },
    }
    write_result("mcp_quick" if quick else "mcp", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 queries, not 300")
    args = parser.parse_args()
    result = run(args.quick)
    rows = []
    for name in ("cold", "warm", "memory_get"):
        part = result[name]
        for label, key in (
            ("in-process", "in_process"),
            ("over MCP (stdio)", "over_mcp"),
            ("paired difference", "paired_difference_ms"),
        ):
            rows.append([f"{name}: {label}", part[key]["p50"], part[key]["p95"]])
    print_table("memory_search at 10k records", ["", "p50 ms", "p95 ms"], rows)
    print(f"connect {result['mcp_connect_s']} s, first call {result['mcp_first_call_s']} s")
    print(f"load average before/after: {result['loadavg_before']} / {result['loadavg_after']}")
    print(f"wrote benchmarks/results/{'mcp_quick' if args.quick else 'mcp'}.json")


if __name__ == "__main__":
    main()
