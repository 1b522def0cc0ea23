"""A promotion dry run with nothing to do names the memories nearest to moving, with their
score, threshold and what holds them back (issue 15), in the service, CLI and TUI."""

from __future__ import annotations

import json
from pathlib import Path

from magray_tui.memory import MemoryService
from tests.conftest import FACTS
from tests.test_memory_cli import magray
from tests.test_memory_lifecycle import Clock


def test_dry_run_with_nothing_to_do_lists_the_nearest(settings, embedder) -> None:
    clock = Clock()
    with MemoryService.open(settings=settings, embedder=embedder, clock=clock) as svc:
        svc.add_many([{"text": t} for t in FACTS])
        used = svc.add("The production database password is kept in the team vault.")
        clock.advance(minutes=30)  # younger than the hours an Interact record must wait
        svc.search("where is the production database password", k=1, reader_session="mon")
        svc.flush_accesses()
        report = svc.run_cycle(dry_run=True)
        assert report.actions == []
        near = report.nearest
        assert 1 <= len(near) <= 5
        assert near[0].record_id == used  # the one read: the closest to moving
        assert near[0].layer == "interact" and near[0].to_layer == "insights"
        assert near[0].score >= near[0].threshold and near[0].blocked_by == "age in layer"
        assert near[1].blocked_by == "score" and near[1].score < near[1].threshold
        ratios = [c.score / c.threshold for c in near]
        assert ratios == sorted(ratios, reverse=True)
        assert {c.blocked_by for c in near} <= {"score", "age in layer", "moves today"}
        assert "vault" in near[0].text
        assert svc.run_cycle().nearest == []  # an applied cycle does not compute them


def test_cli_dry_run_shows_the_nearest(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rid = magray(home, "memory", "add", "The VPN config lives in ops/vpn.conf").output.strip()
    dry = magray(home, "memory", "promote", "--dry-run")
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert lines[0].endswith("would do (dry run): nothing")
    assert lines[1] == "nearest to moving (score / threshold; what holds each back):"
    assert "interact" in dry.output and "held by" in dry.output  # (narrow: ids wrap)
    data = json.loads(magray(home, "memory", "promote", "--dry-run", "--json").output)
    assert data["actions"] == [] and data["nearest"][0]["record_id"] == rid
    assert data["nearest"][0]["blocked_by"] in ("score", "age in layer")
