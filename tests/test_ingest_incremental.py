"""Ingesting into a real store with the real embedder: incremental behaviour, bad files,
cancel and resume. Trees are a few small files so the embedding stays quick."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from magray_tui.ingest import IngestOptions, Ingestor, source_label
from magray_tui.ingest.chunker import chunk_text
from magray_tui.ingest.languages import detect_language
from magray_tui.memory import sources


def py_file(name: str, n: int = 3) -> str:
    """A small module with `n` top-level functions of ~300 characters each."""
    out = [f'"""The {name} module."""', ""]
    for i in range(n):
        out += ["", f"def {name}_step_{i}(value):", f'    """Step {i} of the {name} flow."""']
        out += [f"    value = value * {j + 2} + {i}  # scale part {j}" for j in range(6)]
        out += ["    return value", ""]
    return "\n".join(out)


def make_tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "alpha.py").write_text(py_file("alpha"))
    (root / "pkg" / "beta.py").write_text(py_file("beta"))
    (root / "README.md").write_text(
        "# Lighthouse\n\nThe lighthouse keeper logs every passing ship in a leather book, "
        "with its flag, its name, the hour and the weather, and reads the log aloud to the "
        "harbour master each Sunday after the market closes.\n\n"
        "## Storms\n\nDuring storms the lamp turns twice as fast, the foghorn sounds every "
        "thirty seconds, and the keeper stays awake in the lamp room until the wind drops "
        "below gale force and the last fishing boat is home.\n"
    )
    return root


def opts(**kw) -> IngestOptions:
    base = {"chunk_chars": 400, "overlap_chars": 60}
    base.update(kw)
    return IngestOptions(**base)


def records(memory) -> list[sources.SourceRef]:
    return [r for r in sources.file_records(memory) if r.state.value == "live"]


def expected_chunks(root: Path, o: IngestOptions) -> Counter:
    """(path, chunk hash) of every chunk a fresh ingest of `root` must hold."""
    want: Counter = Counter()
    for dirpath, _, files in os.walk(os.path.realpath(root)):
        for name in files:
            path = os.path.join(dirpath, name)
            text = Path(path).read_text()
            lang = detect_language(path, text.split("\n", 1)[0])
            for c in chunk_text(text, lang, max_chars=o.chunk_chars, overlap_chars=o.overlap_chars):
                want[(path, c.hash)] += 1
    return want


def assert_store_matches(memory, root: Path, o: IngestOptions) -> None:
    have = Counter((r.path, r.metadata["chunk_hash"]) for r in records(memory))
    assert have == expected_chunks(root, o)
    stats = memory.stats()
    live = stats["total_live"]
    assert stats["indexes"]["vector_entries"] == live == stats["indexes"]["keyword_entries"]


def test_ingest_then_reingest_does_nothing(memory, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    o = opts()
    first = Ingestor(memory, o).ingest([root])
    assert first.files_new == 3 and first.chunks_added >= 6 and not first.problems
    assert_store_matches(memory, root, o)
    rev = memory.store.max_rev()
    again = Ingestor(memory, o).ingest([root])
    assert again.files_unchanged == 3 and not again.wrote
    assert memory.store.max_rev() == rev  # not a single write
    hit = memory.search("how fast does the lamp turn in storms", k=1)[0]
    assert source_label(hit.record) == f"{os.path.realpath(root)}/README.md:5-7"
    assert hit.record.source == "file" and hit.record.layer.value == "assets"
    assert hit.record.kind == "doc" and set(hit.record.tags) == {"file", "markdown"}
    # touching a file (same bytes, new mtime) refreshes metadata only
    os.utime(root / "README.md", ns=(1, 1))
    touched = Ingestor(memory, o).ingest([root])
    assert touched.files_touched == 1 and touched.chunks_added == 0
    assert Ingestor(memory, o).ingest([root]).files_unchanged == 3


def test_changed_file_replaces_only_changed_chunks(memory, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    o = opts()
    Ingestor(memory, o).ingest([root])
    path = os.path.realpath(root / "pkg" / "alpha.py")
    before = {r.metadata["chunk_hash"]: r.id for r in records(memory) if r.path == path}
    text = (root / "pkg" / "alpha.py").read_text()
    # Insert lines near the top: one chunk changes, the others only move down.
    text = text.replace("def alpha_step_0(value):", "def alpha_step_0(value):\n    # tweak\n")
    (root / "pkg" / "alpha.py").write_text(text)
    report = Ingestor(memory, o).ingest([root])
    assert report.files_changed == 1 and report.files_unchanged == 2
    assert report.chunks_added == 1 and report.chunks_removed == 1
    after = {r.metadata["chunk_hash"]: r for r in records(memory) if r.path == path}
    kept = set(before) & set(after)
    assert len(kept) == len(before) - 1
    for h in kept:  # same record (id, reads) with fresh line numbers
        assert after[h].id == before[h]
        assert after[h].metadata["start_line"] > 3
    assert_store_matches(memory, root, o)


def test_delete_and_rename(memory, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    o = opts()
    Ingestor(memory, o).ingest([root])
    beta = {r.metadata["chunk_hash"]: r.id for r in records(memory) if r.path.endswith("beta.py")}
    (root / "pkg" / "beta.py").rename(root / "pkg" / "gamma.py")
    (root / "README.md").unlink()
    report = Ingestor(memory, o).ingest([root])
    assert report.chunks_reused == len(beta) and report.chunks_added == 0
    assert report.files_removed == 2 and report.files_new == 1
    gamma = {r.metadata["chunk_hash"]: r.id for r in records(memory) if r.path.endswith("gamma.py")}
    assert gamma == beta  # the same records moved: nothing re-embedded
    assert not memory.search("lighthouse keeper", k=5, mode="keyword")
    assert_store_matches(memory, root, o)


def test_bad_files_are_reported_not_raised(
    memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "latin1.txt").write_bytes("Le garçon a mangé une crème brûlée.\n".encode("cp1252"))
    (root / "utf16.txt").write_bytes("Die Übersetzung ist fertig.\n".encode("utf-16"))
    (root / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (root / "data.noext").write_bytes(b"\x00\x01\x02\x03" * 100)
    with open(root / "huge.log", "wb") as fh:  # 50 MB, sparse: never read
        fh.truncate(50 * 1024 * 1024)
    (root / "secret.txt").write_text("cannot be read\n")
    os.symlink(root, root / "loop")
    os.symlink("/etc/hostname", root / "escape")
    import magray_tui.ingest.textfile as textfile

    real = textfile._read_bytes
    locked = {os.path.realpath(root / "secret.txt")}

    def read_bytes(path: str, limit: int) -> bytes:
        if path in locked:
            raise PermissionError(13, "Permission denied", path)
        return real(path, limit)

    monkeypatch.setattr(textfile, "_read_bytes", read_bytes)
    report = Ingestor(memory, opts()).ingest([root])
    problems = {k: v.count for k, v in report.problems.items()}
    assert problems == {
        "binary": 2,
        "too_large": 1,
        "unreadable": 1,
        "symlink_loop": 1,
        "outside_root": 1,
    }
    assert report.notes and report.files_new == 2
    hit = memory.search("garçon crème brûlée", k=1)[0]
    assert hit.record.text.startswith("Le garçon") and hit.record.metadata["encoding"] == "cp1252"
    hit = memory.search("Übersetzung", k=1, mode="keyword")[0]
    assert hit.record.metadata["encoding"] == "utf-16"
    # an unreadable file keeps its stored chunks; a readable one comes in on the next run
    locked.clear()
    (root / "secret.txt").write_text("now readable\n")
    assert Ingestor(memory, opts()).ingest([root]).files_new == 1
    locked.add(os.path.realpath(root / "secret.txt"))
    (root / "secret.txt").write_text("changed but locked\n")
    report = Ingestor(memory, opts()).ingest([root])
    assert report.problems["unreadable"].count == 1 and report.chunks_removed == 0
    assert any(r.path.endswith("secret.txt") for r in records(memory))


def test_ignore_rules_and_newly_ignored_files(memory, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("module.exports = 1;\n")
    (root / "notes.tmp").write_text("scratch notes\n")
    Ingestor(memory, opts(ignore=("*.tmp",))).ingest([root])
    paths = {os.path.basename(r.path) for r in records(memory)}
    assert paths == {"alpha.py", "beta.py", "README.md"}
    (root / ".gitignore").write_text("pkg/beta.py\n")
    report = Ingestor(memory, opts(ignore=("*.tmp",))).ingest([root])
    assert report.files_removed == 1
    paths = {os.path.basename(r.path) for r in records(memory)}
    assert paths == {"alpha.py", "README.md", ".gitignore"}


def test_cancel_then_resume_without_duplicates(memory, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    for i in range(4):
        (root / "pkg" / f"extra{i}.py").write_text(py_file(f"extra{i}"))
    o = opts(batch_chunks=4)
    seen = []

    def progress(p) -> None:
        seen.append(p)
        if p.chunks_done >= 4:
            ingestor.cancel()

    ingestor = Ingestor(memory, o, progress=progress)
    first = ingestor.ingest([root])
    assert first.cancelled and 0 < first.chunks_added < sum(expected_chunks(root, o).values())
    assert any(p.eta_s is not None for p in seen) and seen[-1].phase == "cancelled"
    second = Ingestor(memory, o).ingest([root])
    assert not second.cancelled and second.files_unchanged >= 1
    assert_store_matches(memory, root, o)


def test_interrupted_between_add_and_purge(
    memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the new chunks are stored but before the old ones are purged."""
    root = make_tree(tmp_path / "tree")
    o = opts()
    Ingestor(memory, o).ingest([root])
    p = root / "pkg" / "beta.py"
    p.write_text(p.read_text().replace("Step 1 of", "The second step of").replace("* 2", "* 7"))

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(sources, "set_metadata", crash)
    with pytest.raises(RuntimeError):
        Ingestor(memory, o).ingest([root])
    monkeypatch.undo()
    report = Ingestor(memory, o).ingest([root])
    assert report.chunks_added == 0 and report.chunks_removed >= 1
    assert_store_matches(memory, root, o)


def test_remove_purges_a_folder(memory, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    Ingestor(memory, opts()).ingest([root])
    gone = [r.id for r in records(memory) if "/pkg/" in r.path]
    report = Ingestor(memory).remove([root / "pkg"])
    assert report.files_removed == 2 and report.chunks_removed == len(gone)
    assert {os.path.basename(r.path) for r in records(memory)} == {"README.md"}
    history = memory.store.history(gone[0])  # purged for good, with a trace of why
    assert [(h["action"], h["actor"], h["reason"]) for h in history] == [
        ("purge", "ingest", "removed")
    ]
