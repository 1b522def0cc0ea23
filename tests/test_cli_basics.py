"""`magray --help`, `--version` and `magray config ...` through click's test runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from magray_tui.cli import main
from magray_tui.config import DEFAULT_CONFIG, load_settings

FOLDERS = ["data", "config", "cache", "state", "log", "db", "index", "models"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own MAGRAY_* variables must not leak into these tests.
    for name in list(os.environ):
        if name.upper().startswith("MAGRAY_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _restore_logging(restore_logging):
    """Every test here: see `restore_logging` in tests/conftest.py."""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def magray(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def assert_clean_failure(result: Result) -> str:
    """Non-zero exit with one `Error: ...` line on stderr and no traceback; returns the line."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def parse_folders(output: str) -> dict[str, Path]:
    return {k: Path(v) for k, v in (line.split(None, 1) for line in output.splitlines())}


# --- top level ----------------------------------------------------------------------------------


def test_help_lists_the_commands() -> None:
    result = magray("--help")
    assert result.exit_code == 0, result.output
    for name in ("config", "memory", "models"):
        assert name in result.output


def test_help_does_not_import_the_commands() -> None:
    # `magray --help` must stay instant: listing commands may not import their modules
    # (memory and models pull in duckdb, onnxruntime ...). A fresh interpreter shows it.
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from magray_tui.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.startswith('magray_tui.commands.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_version() -> None:
    result = magray("--version")
    assert result.exit_code == 0
    assert version("magray-tui") in result.output
    assert "magray" in result.output


# --- magray config path -------------------------------------------------------------------------


def test_config_path_all_under_home_flag(home: Path) -> None:
    result = magray("--home", home, "config", "path", "--all")
    assert result.exit_code == 0, result.output
    folders = parse_folders(result.output)
    assert list(folders) == FOLDERS
    for folder in folders.values():
        assert folder.is_relative_to(home.resolve())


def test_config_path_all_under_magray_home(home: Path) -> None:
    result = magray("config", "path", "--all", env={"MAGRAY_HOME": str(home)})
    assert result.exit_code == 0, result.output
    for folder in parse_folders(result.output).values():
        assert folder.is_relative_to(home.resolve())


def test_config_path_without_home_is_elsewhere(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(home.parent)
    result = magray("config", "path", "--all")
    assert result.exit_code == 0, result.output
    for folder in parse_folders(result.output).values():
        assert not folder.is_relative_to(home.parent)


def test_config_path_prints_the_file(home: Path) -> None:
    result = magray("--home", home, "config", "path")
    assert result.exit_code == 0
    assert Path(result.output.strip()) == home.resolve() / "config" / "config.toml"


def test_config_path_works_with_a_broken_file(home: Path) -> None:
    # The user needs `config path` most when the file is broken.
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("[[[", encoding="utf-8")
    result = magray("--home", home, "config", "path")
    assert result.exit_code == 0
    assert result.output.strip().endswith("config.toml")


# --- magray config init / show ------------------------------------------------------------------


def test_init_then_show_round_trips(home: Path) -> None:
    config_file = home.resolve() / "config" / "config.toml"
    before = magray("--home", home, "config", "show")
    assert before.exit_code == 0, before.output
    assert "does not exist" in before.output

    result = magray("--home", home, "config", "init")
    assert result.exit_code == 0, result.output
    assert str(config_file) in result.output
    assert config_file.read_text(encoding="utf-8") == DEFAULT_CONFIG

    shown = magray("--home", home, "config", "show")
    assert shown.exit_code == 0, shown.output
    assert f"# config file: {config_file} (exists)" in shown.output
    # The output is TOML describing exactly the settings that load from that home.
    expected = load_settings(home).model_dump(mode="json", exclude={"home"}, exclude_none=True)
    assert tomllib.loads(shown.output) == expected
    assert expected["embedding"]["batch_size"] == 32


def test_init_leaves_an_existing_file_alone(home: Path) -> None:
    config_file = home / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[embedding]\nbatch_size = 5\n", encoding="utf-8")
    result = magray("--home", home, "config", "init")
    assert result.exit_code == 0
    assert "already exists" in result.output
    assert config_file.read_text(encoding="utf-8") == "[embedding]\nbatch_size = 5\n"
    shown = magray("--home", home, "config", "show")
    assert tomllib.loads(shown.output)["embedding"]["batch_size"] == 5


def test_show_json(home: Path) -> None:
    magray("--home", home, "config", "init")
    result = magray("--home", home, "config", "show", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert Path(data["config_file"]) == home.resolve() / "config" / "config.toml"
    assert data["config_file_exists"] is True
    assert data["settings"]["embedding"]["batch_size"] == 32
    assert data["settings"]["log_level"] == "INFO"


def test_cli_flag_beats_env_beats_file(home: Path) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(
        'log_level = "WARNING"\n[embedding]\nbatch_size = 64\n', encoding="utf-8"
    )
    env = {"MAGRAY_LOG_LEVEL": "ERROR", "MAGRAY_EMBEDDING__BATCH_SIZE": "128"}
    result = magray("--home", home, "--log-level", "debug", "config", "show", "--json", env=env)
    assert result.exit_code == 0, result.output
    settings = json.loads(result.output)["settings"]
    assert settings["log_level"] == "DEBUG"  # flag over env
    assert settings["embedding"]["batch_size"] == 128  # env over file


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[embedding]\nbatch_size = \n", "line 2"),
        ('[embedding]\nbatch_size = "big"\n', "line 2: embedding.batch_size"),
        ("[embeding]\nbatch_size = 3\n", "line 1: embeding: unknown key"),
        ("[memory]\nrrf_k = 0\n", "line 2: memory.rrf_k"),
    ],
)
def test_show_with_a_bad_file_fails_in_one_line(home: Path, content: str, fragment: str) -> None:
    config_file = home / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(content, encoding="utf-8")
    for args in (["config", "show"], ["config", "show", "--json"]):
        line = assert_clean_failure(magray("--home", home, *args))
        assert str(config_file.resolve()) in line
        assert fragment in line


def test_show_with_a_bad_env_value_names_the_variable(home: Path) -> None:
    result = magray("--home", home, "config", "show", env={"MAGRAY_EMBEDDING__BATCH_SIZE": "abc"})
    assert "MAGRAY_EMBEDDING__BATCH_SIZE" in assert_clean_failure(result)


def test_show_with_config_path_a_directory(home: Path) -> None:
    (home / "config" / "config.toml").mkdir(parents=True)
    assert "config.toml" in assert_clean_failure(magray("--home", home, "config", "show"))
    assert "not a file" in assert_clean_failure(magray("--home", home, "config", "init"))
