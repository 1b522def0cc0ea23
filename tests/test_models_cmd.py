"""`magray models list|check|warmup` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from magray_tui.ai import registry
from magray_tui.ai.registry import packaged_model
from magray_tui.cli import main

DEFAULT = "all-minilm-l6-v2-int8"  # the packaged model
BUILT = ("all-minilm-l6-v2-qint8", "all-minilm-l6-v2-fp32")  # built from the original weights


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MAGRAY_MODELS_DIR", raising=False)
    monkeypatch.delenv("MAGRAY_HOME", raising=False)
    # Models a developer keeps in the checkout's models/ must not change these results.
    monkeypatch.setattr(registry, "repo_models_dir", lambda: tmp_path / "no-repo-models")


def run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--home", str(home), "models", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def models_dir(home: Path) -> Path:
    path = home / "data" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def copy_of_packaged(home: Path, name: str) -> Path:
    """A models-dir folder pointing at the packaged files (symlinks: no 23 MB copy)."""
    src = packaged_model()
    folder = models_dir(home) / name
    folder.mkdir()
    (folder / "model.onnx").symlink_to(src.model_file)
    (folder / "tokenizer.json").symlink_to(src.tokenizer_file)
    (folder / "manifest.toml").write_text(
        'dim = 384\npooling = "cls"\nmax_length = 64\nquery_prefix = "query: "\n'
    )
    return folder


def test_list_json(tmp_path: Path) -> None:
    copy_of_packaged(tmp_path, "minilm-cls")
    half = models_dir(tmp_path) / "half"
    half.mkdir()
    (half / "model.onnx").write_bytes(b"x")
    code, out = run(tmp_path, "list", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows[DEFAULT]["origin"] == "packaged" and rows[DEFAULT]["ok"]
    assert rows["minilm-cls"]["pooling"] == "cls" and rows["minilm-cls"]["ok"]
    assert rows["half"]["ok"] is False
    assert any("tokenizer.json" in p for p in rows["half"]["problems"])


def test_list_table(tmp_path: Path) -> None:
    (models_dir(tmp_path) / "half").mkdir()
    (models_dir(tmp_path) / "half" / "tokenizer.json").write_text("{}")
    code, out = run(tmp_path, "list")
    assert code == 0
    header = out.splitlines()[0].split()
    assert header == ["ID", "KIND", "DIM", "POOLING", "ORIGIN", "PATH", "STATUS"]
    assert DEFAULT in out and "problem: no model.onnx" in out


def test_check_all_ok(tmp_path: Path) -> None:
    copy_of_packaged(tmp_path, "minilm-cls")
    code, out = run(tmp_path, "check", "--json")
    assert code == 0, out
    results = {r["id"]: r for r in json.loads(out)}
    assert results[DEFAULT]["status"] == "ok" and results[DEFAULT]["dim"] == 384
    assert results[DEFAULT]["latency_ms"] > 0
    assert results["minilm-cls"]["status"] == "ok"


def test_check_fails_with_reason_and_exit_1(tmp_path: Path) -> None:
    broken = models_dir(tmp_path) / "noise"
    broken.mkdir()
    (broken / "model.onnx").write_bytes(bytes(range(256)) * 8)
    (broken / "tokenizer.json").write_text("{}")
    (broken / "manifest.toml").write_text("dim = 384\n")
    code, out = run(tmp_path, "check")
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0].startswith("ok") and DEFAULT in lines[0]
    assert [line.split()[1] for line in lines[1:3]] == [f"{m}:" for m in BUILT]
    assert lines[3].startswith("failed  noise: ") and "Traceback" not in out
    code, out = run(tmp_path, "check", DEFAULT)  # just the good one
    assert code == 0 and "noise" not in out


def test_check_unknown_id_is_one_line(tmp_path: Path) -> None:
    code, out = run(tmp_path, "check", "nope")
    assert code == 1
    assert out.strip().splitlines() == [
        f"Error: unknown model 'nope'; known models: {', '.join(sorted([DEFAULT, *BUILT]))}"
    ]


def test_warmup(tmp_path: Path) -> None:
    code, out = run(tmp_path, "warmup", "--batches", "2", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["id"] == BUILT[0] and data["batches"] == 2 and data["texts_per_s"] > 0
    code, out = run(tmp_path, "warmup", "missing-model")
    assert code == 1 and out.startswith("Error: unknown model 'missing-model'")
