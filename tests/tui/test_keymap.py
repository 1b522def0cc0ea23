"""Reading `[keys]` from config.toml."""

from __future__ import annotations

from magray_tui.tui.keymap import read_keys


def test_known_ids_are_kept_and_unknown_reported(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[embedding]\nbatch_size = 8\n\n[keys]\n"memory.forget" = "x"\n'
        '"pane.chat" = "ctrl+1, alt+1"\n"nope" = "z"\n"memory.add" = 3\n'
    )
    report = read_keys(config, {"memory.forget", "pane.chat", "memory.add"})
    assert report.keymap == {"memory.forget": "x", "pane.chat": "ctrl+1,alt+1"}
    assert len(report.problems) == 2
    assert "'nope'" in report.problems[0]
    assert "'memory.add'" in report.problems[1]


def test_missing_or_broken_file(tmp_path):
    assert read_keys(tmp_path / "none.toml", set()).keymap == {}
    broken = tmp_path / "bad.toml"
    broken.write_text("[keys\n")
    report = read_keys(broken, set())
    assert report.keymap == {} and "cannot read key remaps" in report.problems[0]
