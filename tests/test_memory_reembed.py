"""Changing the embedding model re-embeds the store (docs/model-migration.md): it opens on its
own model, search answers from the old vectors until the new index is complete, writes made
meanwhile are picked up, a SIGKILL mid-run resumes without redoing what was staged, and the
switch moves vectors, meta and index together — to a model of the same width and to one of
another width built here."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from magray_tui.ai import DEFAULT_MODEL_ID, PACKAGED_MODEL_ID
from magray_tui.config import load_settings
from magray_tui.memory import MemoryService
from tests.cli_run import ROOT, env_for, run_cli
from tests.small_models import write_small_model

TINY = "tiny-64"
NEEDLE = "The staging database listens on port 5433."
QUERY = "staging database port 5433"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    write_small_model(root, TINY, hidden=64)
    return root


def settings_for(home: Path, models_dir: Path, model: str):
    return load_settings(home, embedding={"model": model}, models_dir=str(models_dir))


def fill(home: Path, models_dir: Path, model: str, n: int) -> tuple[str, list[str]]:
    with MemoryService.open(settings=settings_for(home, models_dir, model)) as svc:
        ids = svc.add_many(
            [
                {"text": f"note {i}: topic {i % 13} in room {i % 7}", "layer": "insights"}
                for i in range(n)
            ]
        )
        needle = svc.add(NEEDLE, layer="insights")
    return needle, ids


def stored_dim(svc: MemoryService) -> int:
    cur = svc.store.cursor()
    return int(cur.execute("SELECT len(vec) FROM vectors LIMIT 1").fetchall()[0][0])


def test_other_width_model_with_search_and_writes_during_the_run(
    tmp_path: Path, models_dir: Path
) -> None:
    needle, ids = fill(tmp_path, models_dir, PACKAGED_MODEL_ID, 600)
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, PACKAGED_MODEL_ID)) as svc:
        svc.forget(ids[1])  # a tombstone: re-embedded too, so a restore after the switch works
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, TINY)) as svc:
        assert (svc.embedder.model_id, svc.embedder.dim) == (PACKAGED_MODEL_ID, 384)
        seen: list[tuple[int, int, str, int, str]] = []
        late: dict[str, str] = {}

        def progress(done: int, total: int) -> None:
            # Mid-run: still the old model, its complete index, its stored vectors.
            hit = svc.search(QUERY, k=1)[0].record.id
            seen.append((done, total, svc.embedder.model_id, stored_dim(svc), hit))
            if 0 < done < total and not late:
                late["added"] = svc.add("Deploys happen on Thursday afternoons.", "insights")
                svc.update(ids[0], text="The reembed test edited this note about llamas.")
                svc.forget(ids[2])
                svc.purge(ids[2])

        report = svc.reembed(progress, batch_size=128)
        mid = [s for s in seen if 0 < s[0] < s[1]]
        assert mid, seen
        assert all(s[2:] == (PACKAGED_MODEL_ID, 384, needle) for s in mid)
        assert report is not None and report.switched and report.model == TINY
        assert (svc.embedder.model_id, svc.embedder.dim, stored_dim(svc)) == (TINY, 64, 64)
        assert svc.store.get_meta("embed_model") == TINY and svc.store.get_meta("embed_dim") == "64"
        assert not svc.reembed_status().pending
        status = svc.index_status()
        assert status["vector_entries"] == status["live_records"] == status["keyword_entries"]
        # Every vector is the new model's embedding of the record's current text.
        edited = svc.get(ids[0], count_access=False)
        want = svc.embedder.embed_documents([edited.text])[0]
        got = svc.core.repo.vectors_for([edited.seq])[0]
        assert float(np.dot(want / np.linalg.norm(want), got)) > 0.999
        assert svc.search("Thursday deploys", k=1, mode="vector")[0].record.id == late["added"]
        svc.restore(ids[1])
        assert svc.get(ids[1], count_access=False).state.value == "live"
        assert svc.index_status()["vector_entries"] == svc.index_status()["live_records"]
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, TINY)) as svc:
        assert svc.catch_up_report.rebuilt == []  # the swapped index was saved as complete
        assert svc.embedder.model_id == TINY
        assert svc.search(QUERY, k=1)[0].record.id == needle


def test_same_width_other_id_and_searches_from_another_thread(
    tmp_path: Path, models_dir: Path
) -> None:
    needle, _ = fill(tmp_path, models_dir, PACKAGED_MODEL_ID, 400)
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, DEFAULT_MODEL_ID)) as svc:
        failures: list[BaseException] = []
        answers: list[str] = []
        stop = threading.Event()

        def searcher() -> None:
            while not stop.is_set():
                try:
                    answers.append(svc.search(QUERY, k=1, count_access=False)[0].record.id)
                except BaseException as exc:  # any error across the switch fails the test
                    failures.append(exc)
                    return

        thread = threading.Thread(target=searcher)
        thread.start()
        try:
            report = svc.reembed(batch_size=64)
            for _ in range(3):  # a few searches on the new model too
                answers.append(svc.search(QUERY, k=1, count_access=False)[0].record.id)
        finally:
            stop.set()
            thread.join(30)
        assert not failures, failures
        assert report is not None and report.switched and report.embedded == 401
        assert len(answers) > 3 and set(answers) == {needle}
        assert svc.embedder.model_id == DEFAULT_MODEL_ID and stored_dim(svc) == 384


WORKER = textwrap.dedent(
    """
    import sys
    from magray_tui.config import load_settings
    from magray_tui.memory import MemoryService

    home, models_dir, model = sys.argv[1:4]
    s = load_settings(home, embedding={"model": model}, models_dir=models_dir)
    with MemoryService.open(settings=s) as svc:
        svc.reembed(lambda d, t: print("P", d, t, flush=True), batch_size=64)
    print("DONE", flush=True)
    """
)


def test_sigkill_mid_run_then_resume_finishes_without_redoing(
    tmp_path: Path, models_dir: Path
) -> None:
    needle, _ = fill(tmp_path, models_dir, TINY, 1500)  # tiny writes fast; qint8 re-embeds
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path), str(models_dir), DEFAULT_MODEL_ID],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=env_for(tmp_path),
    )
    assert proc.stdout is not None
    killed_at = None
    for line in proc.stdout:
        parts = line.decode().split()
        if parts and parts[0] == "P" and int(parts[1]) >= 400:
            proc.send_signal(signal.SIGKILL)
            killed_at = int(parts[1])
            break
    proc.wait(60)
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    settings = settings_for(tmp_path, models_dir, DEFAULT_MODEL_ID)
    with MemoryService.open(settings=settings) as svc:
        status = svc.reembed_status()
        assert status.pending and status.target_model == DEFAULT_MODEL_ID
        assert killed_at <= status.done < status.total == 1501
        # The store is still wholly on the old model, and its search answers.
        assert (svc.embedder.model_id, stored_dim(svc)) == (TINY, 64)
        assert svc.store.get_meta("embed_model") == TINY
        assert svc.search(QUERY, k=1)[0].record.id == needle
        staged = status.done
        report = svc.reembed(batch_size=64)
        assert report is not None and report.switched
        assert report.resumed_from == staged and report.embedded == 1501 - staged
        assert (svc.embedder.model_id, stored_dim(svc)) == (DEFAULT_MODEL_ID, 384)
        assert svc.search(QUERY, k=1)[0].record.id == needle


def test_cli_reembed_status_json_and_a_bad_model(tmp_path: Path, models_dir: Path) -> None:
    fill(tmp_path, models_dir, PACKAGED_MODEL_ID, 20)
    env = env_for(tmp_path, MAGRAY_MODELS_DIR=str(models_dir))
    status = run_cli(tmp_path, "memory", "reembed", "--status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    # Nothing set: the store stays on its own model, and no re-embed is pending.
    assert json.loads(status.stdout)["pending"] is False
    bad = run_cli(tmp_path, "memory", "reembed", "--model", "no-such-model", env=env)
    assert bad.returncode != 0
    err = bad.stderr.decode().strip()
    assert "unknown model 'no-such-model'" in err and "\n" not in err and "Traceback" not in err
    done = run_cli(tmp_path, "memory", "reembed", "--model", TINY, "--json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["switched"], summary["model"], summary["dim"], summary["embedded"]) == (
        True,
        TINY,
        64,
        21,
    )
    # Nothing set any more: the store follows its own (new) model.
    stats = run_cli(tmp_path, "memory", "stats", "--json", env=env)
    assert json.loads(stats.stdout)["embedder"]["model"] == TINY


def test_a_stopped_run_is_dropped_when_the_model_is_set_back_or_changed(
    tmp_path: Path, models_dir: Path
) -> None:
    fill(tmp_path, models_dir, PACKAGED_MODEL_ID, 300)
    stop = threading.Event()
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, TINY)) as svc:
        report = svc.reembed(lambda done, total: done and stop.set(), stop=stop, batch_size=64)
        assert report is not None and report.stopped and not report.switched
        status = svc.reembed_status()
        assert status.target_model == TINY and 64 <= status.done < status.total == 301
    # Another model set: the staged vectors of the first target go, the new one starts at 0.
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, DEFAULT_MODEL_ID)) as svc:
        status = svc.reembed_status()
        assert (status.target_model, status.done) == (DEFAULT_MODEL_ID, 0)
    # The store's own model set again: nothing pending, nothing staged.
    with MemoryService.open(settings=settings_for(tmp_path, models_dir, PACKAGED_MODEL_ID)) as svc:
        assert not svc.reembed_status().pending
        staged = svc.store.cursor().execute("SELECT count(*) FROM vectors_next").fetchall()
        assert staged[0][0] == 0
        assert svc.reembed() is None  # already on it
