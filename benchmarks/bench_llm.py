"""The LLM layer: the embedded offline model's speed, and what the client adds over raw HTTP.

(1) Embedded model (SmolLM2-135M Q4_1, llama.cpp, 1 thread by default): cold start (litellm
    import; model load + first token), then warm time to first token and decode tokens/s
    through `LLMClient.stream` (the litellm CustomLLM path), next to llama.cpp called
    directly with the same prompt, so the cost of our path is visible. Greedy, 64 tokens.
(2) Client overhead: the scripted OpenAI-compatible test server (tests/llm_server.py)
    streams 20 chunks with no delay; the same request is made with raw httpx (POST, read
    SSE lines to [DONE]), with `litellm.completion` alone, and with `LLMClient.stream`
    (litellm + our watcher thread). Time to first text and to the end, p50/p95 over the
    runs; the differences split litellm's cost from ours.

    .venv/bin/python benchmarks/bench_llm.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from common import percentiles, print_table, temp_home, write_result

PROMPT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Explain in a few sentences why the sky is blue."},
]
MAX_TOKENS = 64
CHUNKS = tuple(f"word{i} " for i in range(20))


def _settings(home, **llm: Any):
    from magray_tui.config import load_settings

    return load_settings(home, llm=llm)


def bench_offline(runs: int, threads: int) -> dict[str, Any]:
    from magray_tui.llm import offline
    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import TextDelta, Usage
    from magray_tui.llm.runtime import litellm

    with temp_home() as home:
        t0 = time.perf_counter()
        litellm()
        import_s = time.perf_counter() - t0
        client = LLMClient(_settings(home, offline_threads=threads), local_servers=(), env={})
        assert client.resolve().offline

        def once() -> tuple[float, float, int]:
            start = time.perf_counter()
            first = None
            usage = None
            for event in client.stream(PROMPT, max_tokens=MAX_TOKENS, temperature=0.0):
                if isinstance(event, TextDelta) and first is None:
                    first = time.perf_counter() - start
                elif isinstance(event, Usage):
                    usage = event
            total = time.perf_counter() - start
            assert first is not None and usage is not None
            return first, total, usage.completion_tokens

        cold_first, cold_total, _ = once()
        ttft, rates = [], []
        for _ in range(runs):
            first, total, tokens = once()
            ttft.append(first * 1000)
            if tokens > 1:
                rates.append((tokens - 1) / (total - first))

        # llama.cpp directly, same prompt and settings: the floor for our path.
        llama = offline.OfflineModel.shared(threads).llama()
        raw_ttft, raw_rates = [], []
        for _ in range(runs):
            start = time.perf_counter()
            first = None
            tokens = 0
            stream = llama.create_chat_completion(
                messages=PROMPT, stream=True, max_tokens=MAX_TOKENS, temperature=0.0
            )
            for chunk in stream:
                if chunk["choices"][0]["delta"].get("content"):
                    tokens += 1
                    if first is None:
                        first = time.perf_counter() - start
            total = time.perf_counter() - start
            raw_ttft.append((first or total) * 1000)
            if tokens > 1 and first is not None:
                raw_rates.append((tokens - 1) / (total - first))
        client.close()

    result = {
        "threads": threads,
        "litellm_import_s": round(import_s, 3),
        "cold_first_token_s": round(cold_first, 3),
        "cold_total_s": round(cold_total, 3),
        "warm_first_token_ms": percentiles(ttft),
        "tokens_per_s": percentiles(rates),
        "direct_first_token_ms": percentiles(raw_ttft),
        "direct_tokens_per_s": percentiles(raw_rates),
    }
    print_table(
        f"embedded model (SmolLM2-135M Q4_1, {threads} thread(s), {MAX_TOKENS} tokens, greedy)",
        ("measure", "LLMClient (litellm path)", "llama.cpp direct"),
        [
            ("litellm import (s)", f"{import_s:.2f}", "-"),
            ("cold: load + first token (s)", f"{cold_first:.2f}", "-"),
            (
                "warm first token p50 (ms)",
                result["warm_first_token_ms"]["p50"],
                result["direct_first_token_ms"]["p50"],
            ),
            (
                "decode tokens/s p50",
                result["tokens_per_s"]["p50"],
                result["direct_tokens_per_s"]["p50"],
            ),
        ],
    )
    return result


def _raw_stream(url: str, client: Any) -> tuple[float, float]:
    body = {"model": "test-model", "messages": PROMPT, "stream": True}
    start = time.perf_counter()
    first = None
    with client.stream("POST", f"{url}/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            choices = json.loads(data).get("choices") or []
            if first is None and choices and choices[0]["delta"].get("content"):
                first = time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start


def bench_overhead(runs: int) -> dict[str, Any]:
    import httpx

    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import TextDelta
    from magray_tui.llm.runtime import litellm
    from tests.llm_server import LLMServer

    with temp_home() as home, LLMServer() as server, httpx.Client(timeout=10) as http:
        settings = _settings(home, model="openai/test-model", api_base=server.url,
                             offline_model=False)  # fmt: skip
        client = LLMClient(settings, local_servers=(), env={})
        client.resolve()

        def via_client() -> tuple[float, float]:
            start = time.perf_counter()
            first = None
            for event in client.stream(PROMPT):
                if first is None and isinstance(event, TextDelta):
                    first = time.perf_counter() - start
            return first or 0.0, time.perf_counter() - start

        module = litellm()
        request = {"model": "openai/test-model", "api_base": server.url, "api_key": "no-key",
                   "messages": PROMPT, "stream": True, "max_retries": 0,
                   "stream_options": {"include_usage": True}}  # fmt: skip

        def via_litellm() -> tuple[float, float]:
            start = time.perf_counter()
            first = None
            for chunk in module.completion(**request):
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - start
            return first or 0.0, time.perf_counter() - start

        paths = {
            "raw httpx": lambda: _raw_stream(server.url, http),
            "litellm.completion": via_litellm,
            "LLMClient.stream": via_client,
        }
        measures: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in paths}
        for _ in range(3):  # warm every path (connections, litellm's first-call set-up)
            for call in paths.values():
                server.text(*CHUNKS)
                call()
        for _ in range(runs):
            for name, call in paths.items():
                server.text(*CHUNKS)
                first, total = call()
                measures[name][0].append(first * 1000)
                measures[name][1].append(total * 1000)
        client.close()

    stats = {
        name: {"first_token_ms": percentiles(f), "total_ms": percentiles(t)}
        for name, (f, t) in measures.items()
    }
    ours, raw, lite = (stats[n] for n in ("LLMClient.stream", "raw httpx", "litellm.completion"))
    overhead_first = ours["first_token_ms"]["p50"] - raw["first_token_ms"]["p50"]
    overhead_total = ours["total_ms"]["p50"] - raw["total_ms"]["p50"]
    wrapper_total = ours["total_ms"]["p50"] - lite["total_ms"]["p50"]
    print_table(
        f"client overhead vs raw HTTP ({len(CHUNKS)} chunks, local server, {runs} runs)",
        ("path", "first text p50 (ms)", "first p95", "end p50 (ms)", "end p95"),
        [
            (
                name,
                s["first_token_ms"]["p50"],
                s["first_token_ms"]["p95"],
                s["total_ms"]["p50"],
                s["total_ms"]["p95"],
            )
            for name, s in stats.items()
        ]
        + [
            ("client - raw (p50)", overhead_first, "-", overhead_total, "-"),
            (
                "client - litellm (p50)",
                ours["first_token_ms"]["p50"] - lite["first_token_ms"]["p50"],
                "-",
                wrapper_total,
                "-",
            ),
        ],
    )
    return {
        "chunks": len(CHUNKS),
        "runs": runs,
        **stats,
        "overhead_first_token_ms": round(overhead_first, 3),
        "overhead_total_ms": round(overhead_total, 3),
        "wrapper_over_litellm_total_ms": round(wrapper_total, 3),
    }


def run(quick: bool = False, threads: int = 1) -> dict[str, Any]:
    runs = 5 if quick else 20
    result = {
        "quick": quick,
        "offline": bench_offline(runs, threads),
        "overhead": bench_overhead(runs * 2),
    }
    off = result["offline"]
    result["info"] = {
        "offline_first_token_ms_p50": off["warm_first_token_ms"]["p50"],
        "offline_tokens_per_s_p50": off["tokens_per_s"]["p50"],
        "client_overhead_ms_p50": result["overhead"]["overhead_total_ms"],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs instead of 20")
    parser.add_argument("--threads", type=int, default=1, help="offline model CPU threads")
    args = parser.parse_args()
    result = run(quick=args.quick, threads=args.threads)
    name = "llm_quick" if args.quick else "llm"
    if args.threads != 1:
        name += f"_t{args.threads}"
    path = write_result(name, result)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
