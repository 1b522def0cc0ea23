"""What the agent adds before the LLM call, at 100k memories (target ≤ 50 ms).

A real agent turn runs against the local OpenAI-compatible test server (real HTTP through
litellm); the time from the turn's start to the moment the prompt is ready (route, session
lookup, storing the user message, hybrid retrieval over all layers, budgeting, building the
messages) is what `MemoriesUsed.retrieve_ms` reports. Each question is new text, so the query
embedding is computed every time (no cache hit). Also measured: the same with a warm query
cache, and the time to the first streamed token (which includes the HTTP round trip).

    .venv/bin/python benchmarks/bench_agent.py [--quick]
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

from common import locomo_questions, machine_info, percentiles, print_table, write_result


def run(quick: bool) -> dict[str, Any]:
    from bench_tui import build_100k
    from common import bench_settings

    from magray_tui.agent import model as m
    from magray_tui.services import Services
    from tests.llm_server import LLMServer

    n = 10_000 if quick else 100_000
    home = build_100k(n, quick)
    questions = list(dict.fromkeys(locomo_questions()))[: 30 if quick else 150]
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-key")
    result: dict[str, Any] = {"records": n, "turns": len(questions), "machine": machine_info()}
    with LLMServer() as server:
        settings = bench_settings(home)
        settings.llm.model = "openai/test-model"
        settings.llm.api_base = server.url
        settings.llm.offline_model = False
        settings.agent.distil = False
        services = Services(settings)
        try:
            agent = services.new_agent()
            t0 = time.perf_counter()
            services.memory  # noqa: B018  (open the store, model and indexes)
            agent.model_info()
            result["open_s"] = round(time.perf_counter() - t0, 2)
            session = agent.sessions.create("bench")
            for _ in range(3):  # warm litellm's first-call imports and the model
                list(agent.run_turn(session.id, "warm up"))

            def turns(texts: list[str]) -> tuple[list[float], list[float], list[int]]:
                prep, first, used = [], [], []
                for text in texts:
                    server.text("An", " answer.")
                    session_id = agent.sessions.create("bench").id
                    started = time.perf_counter()
                    got_first = False
                    for event in agent.run_turn(session_id, text):
                        if isinstance(event, m.MemoriesUsed):
                            prep.append(event.retrieve_ms)
                            used.append(len(event.memories))
                        elif isinstance(event, m.ReplyDelta) and not got_first:
                            first.append((time.perf_counter() - started) * 1000)
                            got_first = True
                return prep, first, used

            prep, first, used = turns(questions)
            warm_prep, _, _ = turns(questions[: len(questions) // 3])  # query embeddings cached
            result["prepare_ms"] = percentiles(prep)
            result["prepare_cached_query_ms"] = percentiles(warm_prep)
            result["first_token_ms"] = percentiles(first)
            result["memories_per_turn"] = sum(used) / max(1, len(used))
        finally:
            services.close()
    p50 = result["prepare_ms"].get("p50")
    result["checks"] = {
        "agent_prepare_p50_ms": {
            "value": p50,
            "target": "<= 50",
            "pass": p50 is not None and p50 <= 50,
        }
    }
    result["quick"] = quick
    result["written_to"] = str(write_result("agent_quick" if quick else "agent", result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k records, 30 turns")
    args = parser.parse_args()
    result = run(args.quick)
    rows = [
        ("agent prepare (new question)", result["prepare_ms"]),
        ("agent prepare (cached query vector)", result["prepare_cached_query_ms"]),
        ("turn start → first token (local HTTP)", result["first_token_ms"]),
    ]
    print_table(
        f"Agent turn overhead at {result['records']:,} memories ({result['turns']} turns)",
        ["stage", "p50 ms", "p95 ms", "max ms"],
        [(name, p.get("p50"), p.get("p95"), p.get("max")) for name, p in rows],
    )
    print(f"memories per prompt: {result['memories_per_turn']:.1f}; open: {result['open_s']} s")
    print(f"wrote {result['written_to']}")


if __name__ == "__main__":
    main()
