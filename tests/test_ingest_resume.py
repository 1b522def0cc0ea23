"""An ingest killed with SIGKILL half-way, then started again: no duplicates, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from magray_tui.ingest import Ingestor
from magray_tui.memory import MemoryService
from tests.test_ingest_incremental import (
    assert_store_matches,
    expected_chunks,
    make_tree,
    opts,
    py_file,
    records,
)

CHILD = textwrap.dedent(
    """
    import sys, time
    from magray_tui.ai import load_embedder
    from magray_tui.config import load_settings
    from magray_tui.ingest import Ingestor, IngestOptions
    from magray_tui.memory import MemoryService

    class Slow:  # the real model, slowed so the kill lands mid-way
        def __init__(self, inner):
            self.inner = inner
        def __getattr__(self, name):
            return getattr(self.inner, name)
        def embed_documents(self, texts):
            time.sleep(0.25)
            return self.inner.embed_documents(texts)

    settings = load_settings(sys.argv[1])
    svc = MemoryService.open(settings=settings, embedder=Slow(load_embedder(settings)))
    options = IngestOptions(chunk_chars=400, overlap_chars=60, batch_chunks=4)
    def progress(p):
        print(p.phase, p.chunks_done, flush=True)
    Ingestor(svc, options, progress=progress).ingest([sys.argv[2]])
    print("finished", flush=True)
    """
)


def test_killed_ingest_resumes_without_duplicates(settings, embedder, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    for i in range(6):
        (root / "pkg" / f"more{i}.py").write_text(py_file(f"more{i}"))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    o = opts()
    total = sum(expected_chunks(root, o).values())
    child = subprocess.Popen(
        [sys.executable, str(script), str(settings.paths.data.parent), str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    deadline = time.monotonic() + 120
    try:
        assert child.stdout is not None
        for line in child.stdout:
            words = line.split()
            assert line.strip() != "finished", "the ingest ended before it could be killed"
            # chunks embedded for the second batch: the first batch is committed
            if len(words) == 2 and words[0] == "ingesting" and int(words[1]) >= 8:
                os.kill(child.pid, signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "child too slow"
    finally:
        child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    with MemoryService.open(settings=settings, embedder=embedder) as memory:
        partial = len(records(memory))
        assert 4 <= partial < total
        report = Ingestor(memory, o).ingest([root])
        assert report.chunks_added == total - partial
        assert_store_matches(memory, root, o)
    with MemoryService.open(settings=settings, embedder=embedder) as memory:
        assert not Ingestor(memory, o).ingest([root]).wrote
        assert_store_matches(memory, root, o)
