"""What one GPU poll costs (target: ≤ 5 ms), on whatever this machine has.

Paths measured:
- `nvml`: the real `NvmlSource` through `GpuMonitor.sample_now()`. Without an NVIDIA
  driver (CI, the dev box) this is the no-GPU path: one failed `nvmlInit`, then every
  later poll returns the remembered state at once.
- `scripted-1` / `scripted-2`: the monitor's own work (history ring buffers, lost-GPU
  bookkeeping, listeners) on one and two scripted GPUs: the part that is ours whatever
  NVML costs. With a real GPU, `nvml` adds the driver calls (~20 NVML calls per GPU).
- `snapshot`: what a reader (the pane, the health check) pays per `snapshot()` with a
  full 300-point history.

Prints a table and writes benchmarks/results/gpu.json. `python benchmarks/bench_gpu.py`.
"""

from __future__ import annotations

import time
from typing import Any

from common import percentiles, print_table, write_result

from magray_tui.monitor.gpu import GpuMonitor
from magray_tui.monitor.gpu_source import NvmlSource
from magray_tui.testing.scripted_gpu import ScriptedSource

TARGET_MS = 5.0


def _time(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    n = 200 if quick else 2000
    rows, results = [], {}

    # The real NVML path: the first poll opens NVML (or finds it missing).
    nvml = GpuMonitor(NvmlSource())
    first = _time(nvml.sample_now, 1)[0]
    state = nvml.snapshot()
    later = _time(lambda: nvml.sample_now(force=True), n)
    nvml.close()
    results["nvml"] = {
        "state": state.state,
        "reason": state.reason,
        "first_poll_ms": first,
        "poll_ms": percentiles(later),
    }
    rows.append(("nvml (first poll)", state.state, 1, first, first, first))
    p = results["nvml"]["poll_ms"]
    rows.append(("nvml", state.state, n, p["p50"], p["p95"], p["max"]))

    for label, models in (("scripted-1", ("h100",)), ("scripted-2", ("h100", "rtx4090"))):
        monitor = GpuMonitor(ScriptedSource.gpus(*models), history_points=300)
        monitor.add_listener(lambda: None)
        times = _time(lambda m=monitor: m.sample_now(force=True), n)
        stats = percentiles(times)
        results[label] = {"gpus": len(models), "poll_ms": stats}
        rows.append((label, "ok", n, stats["p50"], stats["p95"], stats["max"]))
        if label == "scripted-2":
            snap = percentiles(_time(monitor.snapshot, n))
            results["snapshot"] = {"gpus": 2, "history_points": 300, "ms": snap}
            rows.append(
                ("snapshot (2 GPUs, 300 pts)", "ok", n, snap["p50"], snap["p95"], snap["max"])
            )
        monitor.close()

    worst_p95 = max(r[4] for r in rows[1:])
    results["target_ms"] = TARGET_MS
    results["meets_target"] = worst_p95 <= TARGET_MS
    print_table(
        "GPU sampling cost per poll (ms)",
        ["path", "state", "polls", "p50", "p95", "max"],
        rows,
        left=2,
    )
    print(
        f"\nworst p95 {worst_p95:.3f} ms; target ≤ {TARGET_MS} ms. "
        f"NVML here: {state.state}" + (f" ({state.reason})" if state.reason else "")
    )
    write_result("gpu_quick" if quick else "gpu", results)
    return results


if __name__ == "__main__":
    run()
