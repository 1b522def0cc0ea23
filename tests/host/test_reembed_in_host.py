"""`magray memory reembed` beside an open magray: the host re-embeds (the store and the
model are there) while other clients keep searching through it; the switch reaches them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from magray_tui.ai import DEFAULT_MODEL_ID
from magray_tui.config import load_settings
from magray_tui.memory import MemoryService
from tests.host.procs import REPO, cli, cli_json, env_for, start_host, stop
from tests.small_models import write_small_model

NEEDLE = "The staging database listens on port 5433."


def test_reembed_runs_in_the_host_and_clients_keep_searching(home: Path) -> None:
    settings = load_settings(home)
    write_small_model(settings.paths.models_dir, "tiny-64")  # found by every process
    tiny = load_settings(home, embedding={"model": "tiny-64"})
    with MemoryService.open(settings=tiny) as svc:
        svc.add_many([{"text": f"note {i} on topic {i % 17}"} for i in range(4000)])
        needle = svc.add(NEEDLE, layer="insights")
    host = start_host(home)  # nothing set: it opens on the store's model, tiny-64
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "magray_tui.cli", "memory", "reembed", "--json"],
            cwd=REPO,
            env=env_for(home),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        during: list[dict] = []
        while run.poll() is None:
            status = cli_json(home, "memory", "reembed", "--status")
            hits = cli_json(home, "memory", "search", "staging database port")
            if status["running"] and 0 < status["done"] < status["total"]:
                during.append({"status": status, "hit": hits[0]["id"]})
            time.sleep(0.2)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        report = json.loads(out)
        assert report["switched"] and report["model"] == DEFAULT_MODEL_ID
        assert report["embedded"] == 4001
        assert during, "no search was answered while the host re-embedded"
        assert {d["hit"] for d in during} == {needle}
        assert all(d["status"]["store_model"] == "tiny-64" for d in during)
        stats = cli_json(home, "memory", "stats")
        assert stats["embedder"]["model"] == DEFAULT_MODEL_ID
        assert cli_json(home, "memory", "search", "staging database port")[0]["id"] == needle
        assert cli(home, "memory", "reembed", "--status").stdout.startswith(
            f"embedded with {DEFAULT_MODEL_ID} (384-d); no re-embed pending"
        )
    finally:
        stop(host)
