"""Start-up: loading state first, then the memory pane's results; errors become messages."""

from __future__ import annotations

import subprocess
import sys
import threading

from magray_tui.config import load_settings
from magray_tui.tui.backend import open_backend
from magray_tui.tui.widgets.header import AppHeader

from ..cli_run import run_cli, run_on_pty
from .pilot_helpers import result_ids, text_of, wait_for_results, wait_until


async def test_loading_state_then_recent_memories(make_app, seeded_settings):
    gate = threading.Event()

    def gated_open(settings):
        gate.wait(30)
        return open_backend(settings)

    app = make_app(seeded_settings, backend_opener=gated_open)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "Opening the memory store" in text_of(app, "#memory-notice")
        assert app.query_one("#memory-notice").display
        assert app.query_one(AppHeader).state == "loading"
        gate.set()
        ids = await wait_for_results(pilot, lambda: len(result_ids(app)) == 5)
        assert ids[0] == "m-markup"  # the most recent first
        assert not app.query_one("#memory-notice").display
        header = app.query_one(AppHeader)
        assert header.state == "ready"
        expected = {"interact": 2, "insights": 2, "assets": 1, "forgotten": 0}
        assert {k: header.counts[k] for k in expected} == expected
        assert "all-minilm" in header.model
        assert "5 most recent memories" in text_of(app, "#memory-summary")


async def test_broken_model_is_a_message_in_the_pane(make_app, home, monkeypatch):
    monkeypatch.setenv("MAGRAY_EMBEDDING__MODEL", "no-such-model")
    app = make_app(load_settings(home))
    # The real loader, so the model registry says what is wrong.
    from magray_tui.ai import embedder as real

    monkeypatch.setattr("magray_tui.ai.load_embedder", real.load_embedder)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.query_one(AppHeader).state == "failed")
        notice = text_of(app, "#memory-notice")
        assert "could not be opened" in notice
        assert "no-such-model" in notice
        assert str(home / "state" / "logs" / "magray.log") in notice
        assert any("no-such-model" in note for note in app.notes)


async def test_a_store_held_outside_magray_is_named_not_copied(make_app, seeded_settings):
    """A process that opened the file directly (not a magray host, which would share it)
    keeps the store out of reach: the Memory pane says who holds it; no snapshot copy."""
    db = seeded_settings.paths.db_file
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True);"
            " time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        app = make_app(seeded_settings)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: app.pane("memory").has_class("-failed"), what="fail")
            notice = text_of(app, "#memory-notice")
            assert f"in use by PID {holder.pid}" in notice
            assert app.backend is None and app.query_one(AppHeader).state == "failed"
            assert any(f"PID {holder.pid}" in note for note in app.notes)
    finally:
        holder.kill()
        holder.wait()


async def test_a_failing_job_toasts_with_a_pointer_to_the_log(make_app, seeded_settings):
    app = make_app(seeded_settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_results(pilot)

        def broken(progress=None):
            raise RuntimeError("index file vanished")

        app.backend.memory.reindex = broken
        await pilot.press("ctrl+p")
        await pilot.press(*"reindex memories")
        await pilot.pause(0.3)
        await pilot.press("enter")
        log_file = str(seeded_settings.paths.log_file)
        await wait_until(pilot, lambda: any(log_file in note for note in app.notes))
        note = next(n for n in app.notes if log_file in n)
        assert "RuntimeError: index file vanished" in note
        assert not app.jobs.snapshot()  # the job ended with the failure


def test_importing_the_app_loads_nothing_heavy():
    """The first frame must not wait for the model, the database or the config stack."""
    heavy = (
        "numpy",
        "duckdb",
        "onnxruntime",
        "hnswlib",
        "tantivy",
        "litellm",
        "pydantic",
        "markdown_it",
        "magray_tui.memory",
        "magray_tui.services",
        "magray_tui.ai",
    )
    code = f"import sys, magray_tui.tui.app; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_app_magray_starts_is_built_without_the_settings_stack(tmp_path):
    """What `magray` does before the first frame (the CLI, the home prepared, the app built
    on DeferredSettings: saved state, themes, key remaps) imports no pydantic and no
    Markdown; the Settings are built later, in the services worker."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text('[keys]\n"app.help" = "f2"\n')
    code = (
        "import sys, magray_tui.cli\n"
        "from magray_tui.commands import AppContext\n"
        "from magray_tui.tui.app import MagrayApp\n"
        "from magray_tui.tui.startup import DeferredSettings\n"
        f"ctx = AppContext(home={str(home)!r})\n"
        "app = MagrayApp(DeferredSettings(ctx.prepare_home(), ctx.build_settings))\n"
        "print(app.user_keymap, [m for m in ('pydantic', 'markdown_it') if m in sys.modules])\n"
        "app.settings.load()\n"
        "print('pydantic' in sys.modules, app.settings.embedding.model != '')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["{'app.help': 'f2'} []", "True True"]


def test_a_bad_config_ends_the_tui_with_the_one_line_every_command_prints(tmp_path):
    """The TUI validates its config after the first frame: a bad value then ends it with
    exit status 1 and the same one-line message as `magray memory list`, no traceback."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text('[embedding]\nbatch_size = "lots"\n')
    status, raw = run_on_pty(home, timeout=90)
    text = raw.decode("utf-8", "replace")
    command = run_cli(home, "memory", "list")
    expected = command.stderr.decode().strip()
    assert expected.startswith("Error: config error in ")
    assert "embedding.batch_size" in expected
    assert status == 1
    assert expected in text.replace("\r\n", "\n")
    assert "Traceback" not in text


def test_without_a_terminal_the_tui_refuses_in_one_line(tmp_path):
    out_file = tmp_path / "out.txt"
    with open(out_file, "w") as out:  # `magray > out.txt`, input from a pipe
        proc = subprocess.run(
            [sys.executable, "-m", "magray_tui.cli", "--home", str(tmp_path / "home")],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a terminal" in lines[0]
    assert out_file.read_text() == ""  # nothing drawn into the file


async def test_unreachable_memory_server_is_a_message_in_the_pane(make_app, home, monkeypatch):
    """`[store] url` pointing at no server: the app opens, the Memory pane names the server
    (password masked) and the reason; nothing else is lost."""
    monkeypatch.setenv("MAGRAY_STORE__URL", "postgresql://ann:hunter2@127.0.0.1:1/team")
    app = make_app(load_settings(home))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.query_one(AppHeader).state == "failed")
        notice = text_of(app, "#memory-notice")
        assert "could not be opened" in notice
        assert "memory server ann@127.0.0.1:1/team unavailable" in notice
        assert "hunter2" not in notice
        assert not any("hunter2" in note for note in app.notes)
