"""What the tool hardening costs per call, each against its baseline in the same run.

- shell: `/bin/true` run directly (process group only, the old way) vs under the
  subreaper supervisor that kills whatever the command leaves behind;
- git: `git status` on a small repository with plain git (reads the repo config) vs the
  tools' allow-listed shadow GIT_DIR (an extra `git config` read and a folder of links);
- search_files regex: RE2 on ordinary patterns vs Python `re`, and the worst RE2 line
  found (`(a{1,50}){1,20}` repeated, on a 2,000-character line).

    .venv/bin/python benchmarks/bench_tool_guards.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import percentiles, print_table, write_result


def _times(fn, n: int) -> dict[str, float]:
    fn()  # warm
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return percentiles(out)


def _shell(n: int) -> dict[str, Any]:
    from magray_tui.tools import shell

    results = {}
    for label, supervised in (("direct (baseline)", False), ("supervised", True)):
        shell.SUPERVISED = supervised
        results[label] = _times(lambda: shell.run_argv(["/bin/true"], "/tmp", 10, 1000), n)
    shell.SUPERVISED = sys.platform.startswith("linux")
    return results


def _git(n: int) -> dict[str, Any]:
    from magray_tui.config import Settings
    from magray_tui.tools import ToolRegistry, deny_all

    with tempfile.TemporaryDirectory(prefix="magray-bench-git-") as tmp:
        repo = Path(tmp)
        for i in range(50):
            (repo / f"f{i}.txt").write_text(f"file {i}\n" * 20, encoding="utf-8")
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@x",
            **{"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"},
        }
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "x"]):
            subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
        registry = ToolRegistry.default(Settings(tools={"workspace_roots": [str(repo)]}), cwd=repo)
        plain = ["git", "status", "--short", "--branch"]
        return {
            "plain git (baseline)": _times(
                lambda: subprocess.run(plain, cwd=repo, capture_output=True, check=True), n
            ),
            "git_status tool": _times(lambda: registry.run("git_status", {}, deny_all), n),
        }


def _regex(n: int) -> dict[str, Any]:
    from magray_tui.tools.regex import Regex, compile_regex
    from magray_tui.tools.search import _matching_lines

    lines = [f"def function_{i}(arg, other): return arg + {i}  # note {i}" for i in range(2000)]
    rare = r"function_1999\("  # one match in 2,000 lines: the usual case
    python = Regex(re.compile(rare, re.IGNORECASE).search, None)
    re2 = compile_regex(rare, False)
    per_line = Regex(re2.line, None)
    worst = compile_regex("(a{1,50}){1,20}" * 8 + "z", False)
    long_line = "a" * 1999

    def scan(regex: Regex) -> list[int]:
        return list(_matching_lines(lines, regex, float("inf")))

    assert scan(python) == scan(re2) == scan(per_line) == [1999]
    return {
        "python re, 2000 lines (baseline)": _times(lambda: scan(python), n),
        "re2 line by line, 2000 lines": _times(lambda: scan(per_line), n),
        "re2 blocks then lines, 2000 lines": _times(lambda: scan(re2), n),
        "re2 worst pattern, one 2000-char line": _times(
            lambda: worst.line(long_line), max(3, n // 5)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n = 10 if parser.parse_args().quick else 30
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    data = {"calls": n, "loadavg_before": load, "shell": _shell(n), "git": _git(n)}
    data["regex"] = _regex(n)
    data["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3] if load else []
    rows = [
        [group, label, f"{v['p50']:.1f}", f"{v['p95']:.1f}"]
        for group in ("shell", "git", "regex")
        for label, v in data[group].items()
    ]
    print_table("tool guards: cost per call", ["what", "variant", "p50 ms", "p95 ms"], rows, 2)
    print(f"load average before/after: {load} / {data['loadavg_after']}")
    print(write_result("tool_guards", data))


if __name__ == "__main__":
    main()
