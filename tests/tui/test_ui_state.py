"""The UI state shared by several magray windows: the first window's pane is not moved by a
second one, and a save writes only the field that changed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from magray_tui.tui.state import FirstWindow, UiState


def test_a_second_window_does_not_record_its_pane(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from magray_tui.tui.state import FirstWindow
                w = FirstWindow(Path({str(tmp_path)!r}))
                print(w.first, flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "True"  # the first window
        assert FirstWindow(tmp_path).first is False  # this process is the second
    finally:
        holder.communicate("\n", timeout=10)
    later = FirstWindow(tmp_path)  # the first one closed: the next window records again
    assert later.first
    later.release()


def test_saving_one_field_keeps_the_others(tmp_path):
    path = tmp_path / "tui.json"
    UiState(theme="nord", pane="tasks").save(path)
    other = UiState.load(path)  # another window, loaded now
    UiState(theme="gruvbox", pane="tasks").save(path, "theme")  # this one changes the theme
    other.pane = "health"
    other.save(path, "pane")  # the other switches pane: the new theme stays
    assert UiState.load(path) == UiState(theme="gruvbox", pane="health")
