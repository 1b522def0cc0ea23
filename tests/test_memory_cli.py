"""`magray memory ...` through click, on real stores in temp homes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from magray_tui.cli import main
from tests.conftest import FACTS


def magray(home: Path, *args: str, input: str | None = None):
    result = CliRunner().invoke(main, ["--home", str(home), *args], input=input)
    assert "Traceback" not in result.output
    return result


def _seed(home: Path) -> None:
    lines = [
        json.dumps(
            {
                "text": t,
                "layer": ["interact", "insights", "assets"][i % 3],
                "tags": ["seed"],
                "created_at": f"2024-02-{i + 1:02d}T10:00:00Z",
                "session": "s1",
            }
        )
        for i, t in enumerate(FACTS)
    ]
    home.mkdir(parents=True, exist_ok=True)
    src = home / "seed.jsonl"
    src.write_text("\n".join(lines) + "\n")
    result = magray(home, "memory", "import", str(src))
    assert result.exit_code == 0, result.output


def test_add_search_json_has_every_field(tmp_path: Path) -> None:
    home = tmp_path / "h"
    added = magray(
        home,
        "memory",
        "add",
        "--layer",
        "insights",
        "--tag",
        "ops",
        "--kind",
        "decision",
        "We",
        "deploy",
        "on",
        "Thursdays",
    )
    assert added.exit_code == 0, added.output
    rid = added.output.strip()
    result = magray(home, "memory", "search", "when do we deploy", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["id"] == rid
    for key in (
        "id",
        "layer",
        "text",
        "score",
        "score_parts",
        "kind",
        "tags",
        "session",
        "created_at",
        "metadata",
    ):
        assert key in hits[0]
    assert hits[0]["layer"] == "insights" and hits[0]["tags"] == ["ops"]
    assert hits[0]["score_parts"]["vector_rank"] == 1
    table = magray(home, "memory", "search", "deploy")
    assert rid in table.output and "bm25" in table.output


def test_export_import_round_trip_gives_identical_search(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _seed(a)
    out = tmp_path / "export.jsonl"
    assert magray(a, "memory", "export", str(out)).exit_code == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(exported) == len(FACTS)
    assert {"access_count", "last_access", "id", "created_at"} <= set(exported[0])
    assert magray(b, "memory", "import", str(out)).exit_code == 0
    for query in ("source of truth", "marathon", "tomato plants", "backup schedule"):
        ra = json.loads(magray(a, "memory", "search", query, "--json").output)
        rb = json.loads(magray(b, "memory", "search", query, "--json").output)
        assert [h["id"] for h in ra] == [h["id"] for h in rb]
        assert [h["score"] for h in ra] == [h["score"] for h in rb]
        assert [h["created_at"] for h in ra] == [h["created_at"] for h in rb]
    # Importing the same file again adds nothing.
    again = magray(b, "memory", "import", str(out), "--json")
    assert json.loads(again.output) == {
        "imported": 0,
        "skipped_existing": len(FACTS),
        "skipped_same_text": 0,  # found by their ids
        "bad_lines": [],
    }


def test_import_with_a_bad_line_is_all_or_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "first good line"}\n{"text": }\n{"text": "third", "layer": "x"}\n')
    result = magray(home, "memory", "import", str(src))
    assert result.exit_code == 1
    assert "line 2" in result.output and "nothing was imported" in result.output
    stats = json.loads(magray(home, "memory", "stats", "--json").output)
    assert stats["total_live"] == 0
    result = magray(home, "memory", "import", str(src), "--skip-bad", "--json")
    report = json.loads(result.output)
    assert report["imported"] == 1
    assert [b["line"] for b in report["bad_lines"]] == [2, 3]


def test_batch_queries_file(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _seed(home)
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "cat", "k": 2}\n{"query": "revenue"}\nnot json\n')
    result = magray(home, "memory", "search", "--queries", str(queries))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines[0]["hits"]) == 2 and "cat" in lines[0]["hits"][0]["text"]
    assert "revenue" in lines[1]["hits"][0]["text"].lower()
    assert lines[2]["line"] == 3 and "error" in lines[2]


def test_show_forget_restore_purge_list_stats(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rid = magray(home, "memory", "add", "the [bold]red[/] door").output.strip()
    shown = magray(home, "memory", "show", rid[:8])
    assert "the [bold]red[/] door" in shown.output  # printed literally, not as markup
    assert "forgot" in magray(home, "memory", "forget", rid).output
    listed = json.loads(magray(home, "memory", "list", "--forgotten", "--json").output)
    assert [r["id"] for r in listed] == [rid]
    assert magray(home, "memory", "restore", rid).exit_code == 0
    assert magray(home, "memory", "forget", rid).exit_code == 0
    purged = magray(home, "memory", "purge", rid, "--yes")
    assert "purged 1 memory" in purged.output
    history = magray(home, "memory", "show", rid)
    assert history.exit_code == 1 and "no memory with id" in history.output
    assert magray(home, "memory", "reindex").exit_code == 0
    stats = json.loads(magray(home, "memory", "stats", "--json").output)
    assert stats["counts"]["forgotten"] == 0 and stats["total_live"] == 0


def test_bad_input_gives_one_line_errors(tmp_path: Path) -> None:
    home = tmp_path / "h"
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x7fELF\x00\x00\x01" * 100)
    result = magray(home, "memory", "add", "--file", str(binary))
    assert result.exit_code == 1 and "binary" in result.output
    result = magray(home, "memory", "add", "   ")
    assert result.exit_code == 1 and "empty text" in result.output
    result = magray(home, "memory", "import", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 1 and "no such file" in result.output
    result = magray(home, "memory", "search", "x", "--since", "last tuesday")
    assert result.exit_code == 1 and "ISO-8601" in result.output
    big = tmp_path / "big.txt"
    big.write_text("word " * 3_000_000)
    result = magray(home, "memory", "add", "--file", str(big))
    assert result.exit_code == 0 and "truncated" in result.output


def test_lifecycle_commands(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rid = magray(home, "memory", "add", "The VPN config lives in ops/vpn.conf").output.strip()
    dry = magray(home, "memory", "promote", "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.output)["applied"] is False
    assert "now in insights" in magray(home, "memory", "promote", rid).output
    assert "now in assets" in magray(home, "memory", "promote", rid, "--to", "assets").output
    history = json.loads(magray(home, "memory", "history", rid, "--json").output)
    assert [h["action"] for h in history] == ["promote", "promote"]
    assert "features" in history[0]["details"]
    assert magray(home, "memory", "undo", rid).output.strip() == "moved back to insights"
    assert magray(home, "memory", "pin", rid).exit_code == 0
    assert "importance 0.9" in magray(home, "memory", "set-importance", rid, "0.9").output
    policy = json.loads(magray(home, "memory", "policy", "--json").output)
    assert policy["active"] == "default" and "learning starts at" in policy["why"]
    assert policy["examples"] == 1  # one record: its last (pin) decision is the example
    bad = magray(home, "memory", "demote", rid, "--to", "assets")
    assert bad.exit_code == 1 and "cannot demote" in bad.output
