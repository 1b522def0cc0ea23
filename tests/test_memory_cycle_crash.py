"""A promotion cycle is one transaction: kill -9 a real process at random points of a cycle
over a backlog, and every record the cycle moved, expired or merged has its history row,
the cycle applied all of its actions or none, and the indexes catch up from the watermark.

Sizes: MAGRAY_CRASH_BACKLOG records (default 3,000; the issue's 20,000 takes minutes on a
shared 2-core machine) and MAGRAY_CRASH_TRIALS kills (default 10)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from magray_tui.config import load_settings
from magray_tui.memory import Layer, MemoryService

REPO = Path(__file__).resolve().parents[1]
BACKLOG = int(os.environ.get("MAGRAY_CRASH_BACKLOG", "3000"))
TRIALS = int(os.environ.get("MAGRAY_CRASH_TRIALS", "10"))
T0 = datetime(2025, 3, 1, 9, 0)
NOW = T0 + timedelta(hours=30)  # past the Interact time to live

CYCLE = """
from datetime import datetime
from magray_tui.memory import MemoryService
now = datetime.fromisoformat({now!r})
svc = MemoryService.open(clock=lambda: now, checkpoint_every=10**9)
print("ready", flush=True)
report = svc.run_cycle()
print("done", len(report.actions), flush=True)
svc.close()
"""


def _backlog(home: Path, embedder) -> None:
    """BACKLOG Interact records from T0 with unit vectors (no embedding: it is the cycle
    that is under test); a fifth of them read in three sessions, so they get promoted."""
    settings = load_settings(home)
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(BACKLOG, embedder.dim)).astype(np.float32)
    items = [
        {"text": f"backlog note {i}: topic {i % 97} at {i % 24}h", "created_at": T0}
        for i in range(BACKLOG)
    ]
    with MemoryService.open(settings=settings, embedder=embedder, clock=lambda: T0) as svc:
        ids = svc.add_many(items, vectors=vecs, batch_size=2000)
        read = [svc.get(rid, count_access=False).seq for rid in ids[: BACKLOG // 5]]
        events = [
            (seq, T0 + timedelta(hours=2 + 8 * day), f"session-{day}", 0.9, 0)
            for seq in read
            for day in range(3)
        ]
        svc.core.committer.commit(lambda w: w.record_accesses(events))


def _changed(svc: MemoryService) -> tuple[int, int, int]:
    """(records no longer live in Interact, of them without a cycle history row,
    cycle history rows)."""
    cur = svc.store.cursor()
    moved = cur.execute(
        "SELECT count(*) FROM memories WHERE NOT (state = 'live' AND layer = 'interact')"
    ).fetchall()[0][0]
    orphans = cur.execute(
        "SELECT count(*) FROM memories m WHERE NOT (m.state = 'live' AND m.layer = 'interact') "
        "AND NOT EXISTS (SELECT 1 FROM memory_history h WHERE h.record_id = m.id "
        "AND h.action IN ('promote', 'expire', 'merge'))"
    ).fetchall()[0][0]
    rows = cur.execute(
        "SELECT count(*) FROM memory_history WHERE action IN ('promote', 'expire', 'merge')"
    ).fetchall()[0][0]
    return int(moved), int(orphans), int(rows)


def _run_cycle(home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "MAGRAY_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CYCLE.format(now=NOW.isoformat()))],
        cwd=REPO,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), (line, proc.stderr.read() if proc.stderr else "")


@pytest.mark.slow
def test_kill_during_a_cycle_leaves_no_move_without_its_history(tmp_path, embedder) -> None:
    template = tmp_path / "template"
    template.mkdir()
    _backlog(template, embedder)

    # A full run tells how many records a cycle changes and how long it takes.
    full = tmp_path / "full"
    shutil.copytree(template, full)
    child = _run_cycle(full)
    _wait_ready(child)
    t0 = time.perf_counter()
    _, err = child.communicate(timeout=600)
    cycle_s = time.perf_counter() - t0
    assert child.returncode == 0, err
    with MemoryService.open(settings=load_settings(full), embedder=embedder) as svc:
        expected, orphans, rows = _changed(svc)
        layers = {r.layer for r in svc.list(layers=["insights"], limit=5)}
    assert expected >= BACKLOG * 0.9 and orphans == 0 and rows >= expected
    assert layers == {Layer.INSIGHTS}  # the read fifth was promoted, the rest expired

    rng = random.Random(13)
    outcomes = []
    for trial in range(TRIALS):
        home = tmp_path / f"trial-{trial}"
        shutil.copytree(template, home)
        child = _run_cycle(home)
        _wait_ready(child)
        time.sleep(rng.uniform(0, cycle_s * 1.1))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        with MemoryService.open(settings=load_settings(home), embedder=embedder) as svc:
            moved, orphans, _ = _changed(svc)
            assert orphans == 0, f"trial {trial}: {orphans} moved records without history"
            # One transaction: all of the cycle or none of it, with its last_cycle_at.
            assert moved in (0, expected), f"trial {trial}: {moved} of {expected} applied"
            assert (svc.last_cycle() is not None) == (moved == expected)
            status = svc.index_status()
            assert status["vector_watermark"] == status["store_rev"]
            assert status["keyword_watermark"] == status["store_rev"]
            assert status["vector_entries"] == status["live_records"]
        outcomes.append(moved == expected)
        shutil.rmtree(home)
    print(f"backlog {BACKLOG}, cycle {cycle_s:.1f} s, applied in {sum(outcomes)}/{TRIALS}")
