"""Run every benchmark, print one summary table and write benchmarks/results/summary.json.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only memory,locomo] [--strict]

With --quick the short versions run and write NAME_quick.json / summary_quick.json, so
they never replace the full numbers. bench_ingest and bench_promotion run too when their
files are there. A benchmark that cannot be imported or fails is reported as a failed row;
the others still run. Exit status: 1 if a benchmark failed to run (or, with --strict,
missed a target).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_DIR, print_table, write_result

BENCHMARKS = (
    ("embedding", "bench_embedding"),
    ("memory", "bench_memory"),
    ("locomo", "bench_locomo"),
)
# Run too when their file is there (written by others; absent means not part of the set).
OPTIONAL = (
    ("ingest", "bench_ingest"),
    ("promotion", "bench_promotion"),
    ("tasks", "bench_tasks"),
    ("gpu", "bench_gpu"),
    ("llm", "bench_llm"),
    ("agent", "bench_agent"),
    ("mcp", "bench_mcp"),
)


def selected() -> list[tuple[str, str]]:
    here = Path(__file__).resolve().parent
    return list(BENCHMARKS) + [
        (name, mod) for name, mod in OPTIONAL if (here / f"{mod}.py").exists()
    ]


# For results that give targets without directions.
_HIGHER_IS_BETTER = ("per_s", "recall", "rate", "hit")
_LOWER_IS_BETTER = ("ratio", "overhead", "_ms", "latency", "_mb", "seconds")


def _lower_is_better(metric: str) -> bool:
    if any(tag in metric for tag in _HIGHER_IS_BETTER):
        return False
    return metric.endswith("_s") or any(tag in metric for tag in _LOWER_IS_BETTER)


def checks_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{metric: {value, target, pass}} from a benchmark's result.

    Our benchmarks give `checks` directly; others may give `targets` {metric: number}
    next to top-level values (as bench_embedding does).
    """
    if isinstance(result.get("checks"), dict):
        return result["checks"]
    out: dict[str, dict[str, Any]] = {}
    # Checks kept one level down, per part (as bench_promotion does): "part.metric".
    for part, value in result.items():
        if isinstance(value, dict) and isinstance(value.get("checks"), dict):
            for metric, c in value["checks"].items():
                if isinstance(c, dict) and "pass" in c:
                    shown = c.get(
                        "value", next((v for k, v in c.items() if k.startswith("value")), None)
                    )
                    out[f"{part}.{metric}"] = {
                        "value": shown,
                        "target": c.get("target"),
                        "pass": bool(c["pass"]),
                    }
    if out:
        return out
    targets = result.get("targets")
    if isinstance(targets, dict):
        for metric, target in targets.items():
            value = result.get(metric)
            if not isinstance(target, int | float) or not isinstance(value, int | float):
                continue
            lower = _lower_is_better(metric)
            ok = value <= target if lower else value >= target
            out[metric] = {
                "value": value,
                "target": f"{'<=' if lower else '>='} {target}",
                "pass": bool(ok),
            }
    if not out and "meets_targets" in result:
        out["meets_targets"] = {
            "value": result["meets_targets"],
            "target": "True",
            "pass": bool(result["meets_targets"]),
        }
    return out


def _save_if_unsaved(module: Any, result: dict[str, Any], started: float, quick: bool) -> None:
    """bench_embedding writes its JSON only from main(): write it for it here (a quick
    run to NAME_quick.json, so it never replaces the full numbers)."""
    path = getattr(module, "RESULTS", None)
    if not isinstance(path, Path):
        return
    if quick:
        path = path.with_name(f"{path.stem}_quick{path.suffix}")
    if path.exists() and path.stat().st_mtime >= started:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def _full_results() -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in RESULTS_DIR.glob("*.json") if not p.stem.endswith("_quick")}


def _keep_full_results(before: dict[Path, bytes]) -> None:
    """A quick run that wrote over a full result (NAME.json with "quick": true) is moved to
    NAME_quick.json and the full result put back."""
    for path in RESULTS_DIR.glob("*.json"):
        if path.stem.endswith("_quick") or path not in before:
            continue
        data = path.read_bytes()
        if data == before[path]:
            continue
        try:
            is_quick = json.loads(data).get("quick") is True
        except (ValueError, AttributeError):
            continue
        if is_quick:
            path.with_name(f"{path.stem}_quick.json").write_bytes(data)
            path.write_bytes(before[path])


def run_one(name: str, module_name: str, quick: bool) -> dict[str, Any]:
    started = time.time()
    t0 = time.perf_counter()
    before = _full_results() if quick else {}
    try:
        module = importlib.import_module(module_name)
        result = module.run(quick=quick)
        if quick:
            _keep_full_results(before)
        if not isinstance(result, dict):
            raise TypeError(f"{module_name}.run() returned {type(result).__name__}, not a dict")
        _save_if_unsaved(module, result, started, quick)
    except BaseException as exc:  # one broken benchmark must not stop the others
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        return {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300],
            "seconds": round(time.perf_counter() - t0, 1),
        }
    return {
        "status": "ok",
        "seconds": round(time.perf_counter() - t0, 1),
        "checks": checks_of(result),
        "info": result.get("info", {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short versions (CI, smoke)")
    parser.add_argument(
        "--only", default="", help="comma-separated: embedding,memory,locomo,ingest,promotion"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    benchmarks = selected()
    unknown = only - {name for name, _ in benchmarks}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    summary: dict[str, Any] = {"quick": args.quick, "benchmarks": {}}
    for name, module_name in benchmarks:
        if only and name not in only:
            continue
        print(f"\n=== {name} ({module_name}{', quick' if args.quick else ''}) ===", flush=True)
        summary["benchmarks"][name] = run_one(name, module_name, args.quick)

    rows = []
    for name, res in summary["benchmarks"].items():
        if res["status"] != "ok":
            rows.append([name, "run failed", "-", "-", "FAIL", res["error"][:60]])
            continue
        for metric, c in res["checks"].items():
            target = str(c.get("target"))
            rows.append(
                [
                    name,
                    metric,
                    c.get("value"),
                    target if len(target) <= 40 else target[:37] + "...",
                    "pass" if c.get("pass") else "FAIL",
                ]
            )
        for metric, value in res["info"].items():
            rows.append([name, metric, value, "-", "info"])
        if not res["checks"] and not res["info"]:
            rows.append([name, "(no targets reported)", "-", "-", "-"])
    width = max(len(r) for r in rows) if rows else 5
    rows = [r + [""] * (width - len(r)) for r in rows]
    headers = ["benchmark", "metric", "value", "target", "result", "note"][:width]
    print_table("Summary" + (" (quick)" if args.quick else ""), headers, rows, left=2)

    ran_ok = all(r["status"] == "ok" for r in summary["benchmarks"].values())
    targets_ok = ran_ok and all(
        c.get("pass") for r in summary["benchmarks"].values() for c in r["checks"].values()
    )
    summary["all_ran"] = ran_ok
    summary["all_targets_met"] = targets_ok
    path = write_result("summary_quick" if args.quick else "summary", summary)
    print(f"\nwrote {path.relative_to(RESULTS_DIR.parent.parent)}")
    if not ran_ok or (args.strict and not targets_ok):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
