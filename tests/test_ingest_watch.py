"""Watch mode with watchfiles on real folders, and the persisted list of watched folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from magray_tui.ingest import (
    WatchedError,
    Watcher,
    add_watched,
    load_watched,
    remove_watched,
    set_watch_enabled,
)
from magray_tui.ingest.watched import watched_file
from tests.conftest import wait_until
from tests.test_ingest_incremental import opts, records


def paths_in(memory) -> set[str]:
    return {os.path.relpath(r.path, r.path.rsplit("/watched/", 1)[0]) for r in records(memory)}


def found(memory, words: str) -> list[str]:
    return [h.record.metadata["path"] for h in memory.search(words, k=5, mode="keyword")]


@pytest.fixture
def watched(tmp_path: Path) -> Path:
    root = tmp_path / "watched"
    root.mkdir()
    (root / "first.md").write_text("# Orchard\n\nThe apple trees bloom in April.\n")
    return root


def start(memory, *roots: Path, **kw) -> Watcher:
    messages: list[str] = []
    w = Watcher(
        memory,
        roots,
        opts(),
        debounce_ms=400,
        step_ms=50,
        poll_ms=100,
        on_message=messages.append,
        **kw,
    )
    w.messages = messages  # type: ignore[attr-defined]
    w.start()
    assert w.ready.wait(20), "watcher did not start"
    return w


def test_watch_follows_edits_renames_and_deletes(memory, watched: Path) -> None:
    w = start(memory, watched)
    try:
        assert paths_in(memory) == {"watched/first.md"}  # the initial sync
        (watched / "second.md").write_text("Tractors need diesel before the harvest.\n")
        wait_until(lambda: found(memory, "tractors diesel"), timeout=15)
        (watched / "second.md").write_text("Tractors now run on biofuel.\n")
        wait_until(lambda: found(memory, "biofuel") and not found(memory, "diesel"), timeout=15)
        ids = {r.id for r in records(memory) if r.path.endswith("second.md")}
        (watched / "second.md").rename(watched / "third.md")
        wait_until(lambda: paths_in(memory) == {"watched/first.md", "watched/third.md"}, 15)
        assert {r.id for r in records(memory) if r.path.endswith("third.md")} == ids
        (watched / "sub").mkdir()
        (watched / "sub" / "deep.txt").write_text("Bees winter inside the hollow oak.\n")
        (watched / "sub" / "cache.pyc").write_bytes(b"\0ignored")
        wait_until(lambda: found(memory, "bees hollow oak"), timeout=15)
        (watched / "first.md").unlink()
        wait_until(lambda: not found(memory, "apple trees bloom"), timeout=15)
        (watched / ".gitignore").write_text("sub/\n")
        wait_until(lambda: paths_in(memory) == {"watched/third.md", "watched/.gitignore"}, 15)
    finally:
        w.stop()
    assert w.error is None and w.batches >= 5


def test_folder_removed_while_watched(memory, tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "watched", tmp_path / "b" / "watched"
    for root, word in ((a, "walnut"), (b, "chestnut")):
        root.mkdir(parents=True)
        (root / "tree.txt").write_text(f"The {word} tree by the gate.\n")
        (root / "inner").mkdir()
        (root / "inner" / "more.txt").write_text(f"More {word} notes.\n")
    w = start(memory, a, b)
    try:
        assert len(records(memory)) == 4
        shutil.rmtree(a)
        wait_until(lambda: not found(memory, "walnut"), timeout=15)
        wait_until(lambda: any("is gone" in m for m in w.messages), timeout=15)
        assert found(memory, "chestnut") and w.error is None
        (b / "new.txt").write_text("A hazel hedge grows along the lane.\n")
        wait_until(lambda: found(memory, "hazel hedge"), timeout=15)
        shutil.rmtree(b)
        wait_until(lambda: not w._thread.is_alive(), timeout=15)
    finally:
        w.stop()
    assert w.error is None and records(memory) == []
    assert any("no watched folder" in m for m in w.messages)


def test_watched_folders_persist(settings, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    assert load_watched(settings) == []
    add_watched(settings, [one, two, one])
    folders = load_watched(settings)
    assert [f.path for f in folders] == [str(one.resolve()), str(two.resolve())]
    assert all(f.enabled and f.exists for f in folders)
    assert set_watch_enabled(settings, two, False)
    assert [f.enabled for f in load_watched(settings)] == [True, False]
    assert not set_watch_enabled(settings, tmp_path / "never", True)
    add_watched(settings, [two])  # adding again re-enables
    assert [f.enabled for f in load_watched(settings)] == [True, True]
    assert remove_watched(settings, [one]) == [str(one.resolve())]
    assert [f.path for f in load_watched(settings)] == [str(two.resolve())]
    two.rmdir()
    assert not load_watched(settings)[0].exists
    watched_file(settings).write_text("{not json")
    with pytest.raises(WatchedError, match=r"watched\.json"):
        load_watched(settings)
