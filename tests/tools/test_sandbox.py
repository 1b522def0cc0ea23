"""The sandbox on its own: what it resolves, what it refuses and how it says so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from magray_tui.tools import Sandbox, SandboxError
from magray_tui.tools.sandbox import open_regular
from tests.tools.conftest import Workspace


def test_relative_paths_start_at_the_first_root(ws: Workspace) -> None:
    box = Sandbox([ws.root])
    r = box.resolve("src/app.py")
    assert r.path == str((ws.root / "src" / "app.py").resolve())
    assert r.rel == "src/app.py"
    assert r.subjects == ("src/app.py", r.path)
    assert box.resolve(".").rel == "."
    assert box.resolve("src/../README.md").rel == "README.md"


def test_absolute_paths_inside_any_root_are_fine(ws: Workspace, tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    (second / "n.txt").write_text("n", encoding="utf-8")
    box = Sandbox([ws.root, second])
    r = box.resolve(str(second / "n.txt"))
    assert r.root == str(second.resolve()) and r.rel == "n.txt"


def test_a_root_given_through_a_symlink_still_contains_its_files(
    ws: Workspace, tmp_path: Path
) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(ws.root)
    box = Sandbox([alias])
    assert box.resolve(str(alias / "README.md")).rel == "README.md"
    assert box.resolve(str(ws.root / "README.md")).rel == "README.md"


def test_symlinks_inside_the_root_resolve_to_their_target(ws: Workspace) -> None:
    (ws.root / "link").symlink_to("src/app.py")
    r = Sandbox([ws.root]).resolve("link")
    assert r.rel == "src/app.py"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("../outside/canary.txt", "leads outside the workspace (via '..')"),
        ("/etc/passwd", "is outside the workspace roots"),
        ("a\0b", "NUL byte"),
        ("~/x", "'~' is not expanded"),
        ("a\\b", "backslashes are not allowed"),
        ("", "the path is empty"),
        ("x" * 5000, "the path is too long"),
        ("d/" + "y" * 256, "longer than 255 bytes"),
    ],
)
def test_refusals_say_why(ws: Workspace, given: str, message: str) -> None:
    with pytest.raises(SandboxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Sandbox([ws.root]).resolve(given)


def test_a_symlink_out_is_named_as_such(ws: Workspace) -> None:
    (ws.root / "out").symlink_to(ws.outside)
    with pytest.raises(SandboxError, match=r"symlink .* leading outside the workspace"):
        Sandbox([ws.root]).resolve("out/canary.txt")


def test_a_loop_is_named_as_such(ws: Workspace) -> None:
    (ws.root / "a").symlink_to("b")
    (ws.root / "b").symlink_to("a")
    with pytest.raises(SandboxError, match="symlink loop"):
        Sandbox([ws.root]).resolve("a")


def test_fifos_are_refused_before_anything_opens_them(ws: Workspace) -> None:
    os.mkfifo(ws.root / "pipe")
    with pytest.raises(SandboxError, match="not a regular file or folder"):
        Sandbox([ws.root]).resolve("pipe")
    # And the low-level opener refuses it too without blocking (O_NONBLOCK).
    with pytest.raises(SandboxError, match="not a regular file"):
        open_regular(str(ws.root / "pipe"))


def test_open_regular_refuses_a_final_symlink(ws: Workspace) -> None:
    (ws.root / "late").symlink_to(ws.canary)
    with pytest.raises(SandboxError, match="became a symlink"):
        open_regular(str(ws.root / "late"))


def test_writes_into_git_folders_are_refused(ws: Workspace) -> None:
    box = Sandbox([ws.root])
    for path in (".git/config", ".git/hooks/pre-commit", "sub/.git/HEAD"):
        with pytest.raises(SandboxError, match=r"inside a \.git folder"):
            box.resolve(path, write=True)
    assert box.resolve(".git/config").rel == ".git/config"  # reading is fine
    assert box.resolve(".gitignore", write=True).rel == ".gitignore"


def test_missing_files_resolve_so_they_can_be_created(ws: Workspace) -> None:
    r = Sandbox([ws.root]).resolve("new/dir/file.txt", write=True)
    assert not r.exists() and r.rel == "new/dir/file.txt"


def test_roots_default_to_the_cwd(ws: Workspace) -> None:
    box = Sandbox.for_settings([], ws.root)
    assert box.roots == (str(ws.root.resolve()),)
    box = Sandbox.for_settings([Path("src")], ws.root)  # relative roots: from the cwd
    assert box.roots == (str((ws.root / "src").resolve()),)
