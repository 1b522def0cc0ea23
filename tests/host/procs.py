"""Real processes on one home: a magray host, CLI commands, scripted clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

# A magray process that opens the home the way the TUI does (Services, memory first) and
# serves it until its standard input closes. Prints "ready" once the memory is open.
HOST = """
import sys
from magray_tui.config import load_settings
from magray_tui.services import Services
services = Services(load_settings())
services.memory.stats()
print("ready", "host" if not services.membership().remote else "client", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print("count", services.memory.stats()["total_live"], flush=True)
services.close()
print("closed", flush=True)
"""

# A client that adds memories in a loop, printing each id once it is acknowledged.
WRITER = """
import sys
from magray_tui.config import load_settings
from magray_tui.services import Services
name, n = sys.argv[1], int(sys.argv[2])
services = Services(load_settings())
memory = services.memory
for i in range(n):
    rid = memory.add(f"note {i} from writer {name}: the ferry leaves at {i % 24}h", tags=[name])
    print("acked", rid, flush=True)
print("role", "host" if not services.membership().remote else "client", flush=True)
services.close()
print("done", flush=True)
"""


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGRAY_")}
    pythonpath = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return {
        **env,
        "MAGRAY_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": pythonpath,
        **extra,
    }


def spawn(code: str, home: Path, *args: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=REPO,
        env=env_for(home),
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def read_until(proc: subprocess.Popen[str], marker: str, timeout: float = 120) -> list[str]:
    """Lines of `proc` up to the one starting with `marker` (its stderr on failure)."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
        if time.monotonic() > deadline:
            break
    proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"no {marker!r} from the child; it said {lines!r}\n{err}")


def start_host(home: Path) -> subprocess.Popen[str]:
    host = spawn(HOST, home)
    assert read_until(host, "ready")[-1] == "ready host"
    return host


def stop(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate("", timeout=120)
    assert proc.returncode == 0, err
    return out


def cli(home: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "magray_tui.cli", *args],
        cwd=REPO,
        env=env_for(home),
        text=True,
        input=input,
        capture_output=True,
        timeout=180,
    )


def cli_json(home: Path, *args: str) -> Any:
    done = cli(home, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def stored_ids(home: Path) -> set[str]:
    """Every live memory id, read by a fresh process once everyone else has gone."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
            from magray_tui.memory import MemoryService
            with MemoryService.open() as svc:
                for r in svc.list(limit=100_000):
                    print(r.id)
        """),
        ],
        cwd=REPO,
        env=env_for(home),
        text=True,
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())
