"""WAL damage is noticed, said in one line with the way back, and nothing is deleted; a
damaged database file gives one line naming it; snapshot folders of killed readers go."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from magray_tui.errors import StoreDamaged
from magray_tui.memory import MemoryService

REPO = Path(__file__).resolve().parents[1]

# 40 memories committed and checkpointed, then 60 more (one commit each) only in the WAL:
# the child dies without closing (no checkpoint), as a killed magray would. Given vectors
# spare the embedding: the log is under test, not the model.
WRITER = """
import os
import numpy as np
from magray_tui.memory import MemoryService
svc = MemoryService.open()
rng = np.random.default_rng(1)
svc.add_many([{"text": f"checkpointed {i}"} for i in range(40)],
             vectors=rng.normal(size=(40, svc.embedder.dim)))
svc.store.checkpoint()
svc.add_many([{"text": f"only in the log {i}"} for i in range(60)],
             vectors=rng.normal(size=(60, svc.embedder.dim)), batch_size=1)
os._exit(0)
"""


@pytest.fixture
def crashed(home: Path, settings) -> Path:
    env = {**os.environ, "MAGRAY_HOME": str(home)}
    code = textwrap.dedent(WRITER)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    wal = settings.paths.db_file.with_name(settings.paths.db_file.name + ".wal")
    assert wal.stat().st_size > 0
    return wal


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_an_intact_wal_replays_silently_and_keeps_no_copy(crashed, settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.stats()["total_live"] == 100
        assert svc.store.warning is None
    assert not [n for n in _files(crashed.parent) if "before-replay" in n]


def test_a_missing_wal_says_how_many_commits_were_lost(crashed, settings, embedder) -> None:
    from magray_tui.monitor.health_checks import check_database
    from magray_tui.services import Services

    crashed.unlink()
    services = Services(settings)
    warning = services.store.warning or ""  # the store opens (and compares) here
    assert "is missing" in warning and "60 committed change(s) are lost" in warning
    assert "magray memory import" in warning
    result = check_database(services, None)
    assert result.status == "degraded" and "60 committed change(s)" in result.message
    with MemoryService.open(settings=settings, embedder=embedder, store=services.store) as svc:
        assert svc.stats()["total_live"] == 40  # what the last checkpoint holds
        assert svc.stats()["database"]["warning"] == warning
    # Told once: the next open is clean.
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.store.warning is None


def test_a_cut_wal_is_noticed_and_kept(crashed, settings, embedder) -> None:
    data = crashed.read_bytes()
    crashed.write_bytes(data[: len(data) // 2])
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        live = svc.stats()["total_live"]
        warning = svc.store.warning or ""
    assert 40 <= live < 100
    assert "was cut short" in warning and f"{100 - live} committed change(s)" in warning
    kept = [n for n in _files(crashed.parent) if "before-replay" in n]
    assert len(kept) == 1 and kept[0] in warning
    assert (crashed.parent / kept[0]).stat().st_size == len(data) // 2


def test_a_corrupt_wal_names_the_way_back_and_it_works(crashed, settings, embedder) -> None:
    data = bytearray(crashed.read_bytes())
    for k in range(len(data) // 2, len(data) // 2 + 64):
        data[k] ^= 0xFF
    crashed.write_bytes(bytes(data))
    with pytest.raises(StoreDamaged) as err:
        MemoryService.open(settings=settings, embedder=embedder)
    message = str(err.value)
    assert f"the write-ahead log {crashed} is damaged" in message and "\n" not in message
    assert f"mv {crashed} {crashed}.damaged" in message
    assert crashed.read_bytes() == bytes(data)  # nothing deleted or rewritten
    # The way back the message names: move the log aside, open what was checkpointed.
    crashed.rename(crashed.with_name(crashed.name + ".damaged"))
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        assert svc.stats()["total_live"] == 40
        assert "60 committed change(s) are lost" in (svc.store.warning or "")


def test_a_damaged_database_file_is_one_line_naming_it(home, settings, embedder) -> None:
    with MemoryService.open(settings=settings, embedder=embedder) as svc:
        svc.add_many([{"text": f"note {i}"} for i in range(50)])
    db = settings.paths.db_file
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreDamaged) as err:
        MemoryService.open(settings=settings, embedder=embedder)
    message = str(err.value)
    assert str(db) in message and "magray memory import" in message
    assert "\n" not in message
    assert db.read_bytes() == data[: len(data) // 2]  # left untouched

    from magray_tui.cli import main

    result = CliRunner().invoke(main, ["memory", "stats"], env={"MAGRAY_HOME": str(home)})
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert str(db) in result.output and "magray memory import" in result.output
