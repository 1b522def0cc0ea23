"""Settings layering, config-file errors and log routing (magray_tui.config, magray_tui.logs)."""

from __future__ import annotations

import logging
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

from magray_tui import logs
from magray_tui.config import (
    DEFAULT_CONFIG,
    ConfigError,
    Paths,
    Settings,
    init_config_file,
    load_settings,
    read_config_file,
    settings_as_toml,
)


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


def write_config(home: Path, text: str | bytes) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- precedence: defaults < config.toml < MAGRAY_* < flags -----------------------------------


def test_defaults_without_file_or_env(home: Path) -> None:
    s = load_settings(home)
    assert s.log_level == "INFO"
    assert s.embedding.batch_size == 32


def test_file_beats_defaults(home: Path) -> None:
    write_config(home, 'log_level = "WARNING"\n[embedding]\nbatch_size = 64\n')
    s = load_settings(home)
    assert s.log_level == "WARNING"
    assert s.embedding.batch_size == 64


def test_env_beats_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, 'log_level = "WARNING"\n[embedding]\nbatch_size = 64\n')
    monkeypatch.setenv("MAGRAY_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("MAGRAY_EMBEDDING__BATCH_SIZE", "128")
    s = load_settings(home)
    assert s.log_level == "ERROR"
    assert s.embedding.batch_size == 128


def test_flags_beat_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, 'log_level = "WARNING"\n[embedding]\nbatch_size = 64\n')
    monkeypatch.setenv("MAGRAY_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("MAGRAY_EMBEDDING__BATCH_SIZE", "128")
    s = load_settings(home, log_level="DEBUG", embedding={"batch_size": 256})
    assert s.log_level == "DEBUG"
    assert s.embedding.batch_size == 256


def test_none_flags_do_not_override(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI passes log_level=None when --log-level is absent; that must not hide env.
    monkeypatch.setenv("MAGRAY_LOG_LEVEL", "ERROR")
    assert load_settings(home, log_level=None).log_level == "ERROR"


def test_nested_layers_merge_key_by_key(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One nested key from each layer: none may wipe out the others' siblings.
    write_config(home, '[embedding]\nbatch_size = 64\ndevice = "cpu"\nmax_length = 100\n')
    monkeypatch.setenv("MAGRAY_EMBEDDING__DEVICE", "cuda")
    s = load_settings(home, embedding={"max_length": 512})
    assert (s.embedding.batch_size, s.embedding.device, s.embedding.max_length) == (
        64,
        "cuda",
        512,
    )


def test_log_level_is_case_insensitive(home: Path) -> None:
    write_config(home, 'log_level = "debug"\n')
    assert load_settings(home).log_level == "DEBUG"


# --- where files live -------------------------------------------------------------------------


def test_magray_home_puts_everything_under_it(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A relative MAGRAY_HOME is fixed once, so a later chdir cannot move the data.
    monkeypatch.chdir(home.parent)
    monkeypatch.setenv("MAGRAY_HOME", home.name)
    s = load_settings()
    root = home.resolve()
    assert s.home == root
    for folder in (s.paths.data, s.paths.config, s.paths.cache, s.paths.state):
        assert folder.parent == root
    assert s.config_file == root / "config" / "config.toml"
    assert s.paths.log_file.is_relative_to(root)
    assert Paths.resolve() == s.paths  # what commands use when they need no settings


def test_home_argument_reads_config_from_home(home: Path) -> None:
    write_config(home, "[embedding]\nbatch_size = 7\n")
    s = load_settings(home)
    assert s.embedding.batch_size == 7
    assert s.home == home.resolve()


def test_without_home_uses_platform_dirs(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(home.parent)
    paths = Paths.resolve()
    for folder in (paths.data, paths.config, paths.cache, paths.state):
        assert not folder.is_relative_to(home.parent)
        assert "magray" in str(folder)


def test_relative_models_dir_is_taken_from_the_config_folder(home: Path) -> None:
    config_file = write_config(home, 'models_dir = "extra-models"\n')
    s = load_settings(home)
    assert s.models_dir == config_file.parent / "extra-models"


# --- malformed configuration: one line naming file, line and key ------------------------------


BAD_FILES = [
    # (content, expected fragments, line)
    ("[embedding]\nbatch_size = \n", [], 2),  # TOML syntax
    ('[embedding]\ndevice = "cpu"\nbatch_size = "big"\n', ["embedding.batch_size", "'big'"], 3),
    ("[embedding]\nbatch_size = 0\n", ["embedding.batch_size", "greater than"], 2),
    ("[memory]\nhnsw_m = 100000\n", ["memory.hnsw_m", "less than"], 2),
    ('[embedding]\ndevice = "tpu"\n', ["embedding.device"], 2),
    ('log_level = "INFO"\n\n[embeding]\nbatch_size = 3\n', ["embeding", "unknown key"], 3),
    ("[embedding]\nbach_size = 3\n", ["embedding.bach_size", "unknown key", "batch_size"], 2),
    ('log_levl = "INFO"\n', ["log_levl", "unknown key"], 1),
    ('# a comment\nembedding.batch_size = "x"\n', ["embedding.batch_size"], 2),
    ('\nembedding = { batch_size = "x" }\n', ["embedding.batch_size"], 2),
    ('\n\nhome = "/elsewhere"\n', ["home", "MAGRAY_HOME"], 3),
]


@pytest.mark.parametrize(("content", "fragments", "line"), BAD_FILES)
def test_bad_file_is_one_line_naming_file_line_and_key(
    home: Path, content: str, fragments: list[str], line: int
) -> None:
    path = write_config(home, content)
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert f"line {line}:" in msg
    for fragment in fragments:
        assert fragment in msg
    # read_config_file alone reports the same problem.
    with pytest.raises(ConfigError):
        read_config_file(path)


def test_non_utf8_file(home: Path) -> None:
    path = write_config(home, b"[embedding]\nmodel = '\xff\xfe'\n")
    with pytest.raises(ConfigError, match="UTF-8") as info:
        load_settings(home)
    assert str(path) in str(info.value)


def test_config_path_is_a_directory(home: Path) -> None:
    path = home / "config" / "config.toml"
    path.mkdir(parents=True)
    with pytest.raises(ConfigError, match="folder") as info:
        load_settings(home)
    assert str(path) in str(info.value)


def test_missing_file_means_defaults(home: Path) -> None:
    assert read_config_file(home / "config" / "config.toml") == {}


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("MAGRAY_EMBEDDING__BATCH_SIZE", "abc", "'abc'"),
        ("MAGRAY_EMBEDDING__BATCH_SIZE", "0", "greater than"),
        ("MAGRAY_LOG_LEVEL", "LOUD", "'LOUD'"),
        ("MAGRAY_EMBEDDING__BACH_SIZE", "3", "unknown key"),
        ("MAGRAY_EMBEDDING", "not json", "JSON"),
    ],
)
def test_bad_env_value_names_the_variable(
    home: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    write_config(home, "[embedding]\nbatch_size = 64\n")  # a valid file is not to blame
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    msg = str(info.value)
    assert "\n" not in msg
    assert f"environment variable {name}" in msg
    assert fragment in msg
    assert "config.toml" not in msg


def test_bad_flag_is_blamed_on_the_option(home: Path) -> None:
    with pytest.raises(ConfigError, match=r"option embedding\.batch_size"):
        load_settings(home, embedding={"batch_size": -1})


# --- writing config -----------------------------------------------------------------------------


def test_settings_as_toml_round_trips(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Awkward strings must come out as valid TOML that loads back to the same settings.
    monkeypatch.setenv("MAGRAY_EMBEDDING__MODEL", 'odd "name" \\ with\ttab')
    monkeypatch.setenv("MAGRAY_MEMORY__TTL_INTERACT_HOURS", "0.00001")
    before = load_settings(home, log_level="WARNING")
    text = settings_as_toml(before)
    assert "home" not in tomllib.loads(text)
    monkeypatch.delenv("MAGRAY_EMBEDDING__MODEL")
    monkeypatch.delenv("MAGRAY_MEMORY__TTL_INTERACT_HOURS")
    write_config(home, text)
    after = load_settings(home)
    assert after.model_dump() == before.model_dump()


def test_default_config_template_matches_the_settings(home: Path) -> None:
    # Uncommenting every example line must load and give the defaults: the template may
    # not drift from the model (a renamed key would become an "unknown key" error).
    uncommented = re.sub(r"(?m)^# (\w+ = )", r"\1", DEFAULT_CONFIG)
    assert uncommented != DEFAULT_CONFIG
    write_config(home, uncommented)
    loaded = load_settings(home).model_dump(exclude={"home", "models_dir"})
    assert loaded == Settings().model_dump(exclude={"home", "models_dir"})


def test_init_config_file_never_overwrites(home: Path) -> None:
    path = home / "config" / "config.toml"
    assert init_config_file(path) is True
    assert path.read_text(encoding="utf-8") == DEFAULT_CONFIG
    path.write_text("log_level = 'ERROR'\n", encoding="utf-8")
    assert init_config_file(path) is False
    assert path.read_text(encoding="utf-8") == "log_level = 'ERROR'\n"
    assert load_settings(home).log_level == "ERROR"


# --- logging: into the state folder, never onto the terminal ----------------------------------


def _writes_to_terminal(handler: logging.Handler) -> bool:
    if isinstance(handler, logging.FileHandler) or not isinstance(handler, logging.StreamHandler):
        return False
    terminals = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    return any(handler.stream is t for t in terminals)


def test_setup_logging_writes_to_the_log_file_only(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(home, log_level="DEBUG")
    root = logging.getLogger()
    before = list(root.handlers)
    logs.setup_logging(settings)
    added = [h for h in root.handlers if h not in before]

    log_file = home.resolve() / "state" / "logs" / "magray.log"
    assert settings.paths.log_file == log_file
    assert len(added) == 1
    assert isinstance(added[0], logging.FileHandler)
    assert Path(added[0].baseFilename) == log_file
    assert not any(_writes_to_terminal(h) for h in root.handlers)

    logging.getLogger("magray.test").debug("a line for the file")
    added[0].flush()
    assert "a line for the file" in log_file.read_text(encoding="utf-8")
    out, err = capsys.readouterr()
    assert "a line for the file" not in out + err


def test_setup_logging_twice_adds_one_handler(home: Path) -> None:
    settings = load_settings(home)
    logs.setup_logging(settings)
    logs._configured = None  # force the work to be done again
    logs.setup_logging(settings)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_magray", False)]
    assert len(ours) == 1
