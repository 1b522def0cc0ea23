"""write_file: the diff in the confirmation, atomic writes, nothing written without a yes."""

from __future__ import annotations

import os
import stat

from magray_tui.tools import ToolRegistry, allow_all, deny_all
from tests.tools.conftest import Asker, Workspace, make_registry


def write(reg: ToolRegistry, confirm, **args):
    return reg.run("write_file", args, confirm)


def test_creating_a_file_shows_the_diff_and_waits_for_a_yes(
    ws: Workspace, registry: ToolRegistry
) -> None:
    no = Asker(answer=False)
    refused = write(registry, no, path="notes/todo.md", content="- one\n- two\n")
    assert not refused.ok and refused.output == "the user declined: Create notes/todo.md (12 bytes)"
    assert not (ws.root / "notes").exists()
    assert no.seen[0].detail == (
        "--- /dev/null\n+++ b/notes/todo.md\n@@ -0,0 +1,2 @@\n+- one\n+- two\n"
    )
    yes = Asker(answer=True)
    done = write(registry, yes, path="notes/todo.md", content="- one\n- two\n")
    assert done.ok and done.summary == "created notes/todo.md (+2 -0)"
    assert (ws.root / "notes" / "todo.md").read_text(encoding="utf-8") == "- one\n- two\n"


def test_overwriting_shows_removed_and_added_lines(ws: Workspace, registry: ToolRegistry) -> None:
    asker = Asker()
    result = write(registry, asker, path="README.md", content="# Demo\n\nA bigger project.\n")
    assert result.ok and result.summary == "wrote README.md (+1 -1)"
    detail = asker.seen[0].detail
    assert detail.startswith("--- a/README.md\n+++ b/README.md\n")
    assert "\n-A small demo project.\n+A bigger project.\n" in detail
    assert asker.seen[0].title == "Overwrite README.md (26 bytes)"
    assert (ws.root / "README.md").read_text(encoding="utf-8") == "# Demo\n\nA bigger project.\n"


def test_a_missing_final_newline_is_visible_in_the_diff(registry: ToolRegistry) -> None:
    asker = Asker(answer=False)
    write(registry, asker, path="README.md", content="# Demo")
    assert "\\ No newline at end of file" in asker.seen[0].detail


def test_identical_content_writes_nothing_and_asks_nothing(
    ws: Workspace, registry: ToolRegistry
) -> None:
    before = (ws.root / "README.md").stat().st_mtime_ns
    asker = Asker(answer=False)
    result = write(registry, asker, path="README.md", content="# Demo\n\nA small demo project.\n")
    assert result.ok and result.summary == "README.md unchanged"
    assert asker.seen == []
    assert (ws.root / "README.md").stat().st_mtime_ns == before


def test_mode_crlf_and_encoding_are_kept(ws: Workspace, registry: ToolRegistry) -> None:
    script = ws.root / "run.sh"
    script.write_bytes("echo café\r\n".encode("cp1252"))
    os.chmod(script, 0o750)
    result = write(registry, allow_all, path="run.sh", content="echo café\necho encore\n")
    assert result.ok
    assert script.read_bytes() == "echo café\r\necho encore\r\n".encode("cp1252")
    assert stat.S_IMODE(script.stat().st_mode) == 0o750


def test_the_write_is_atomic_and_leaves_no_temp_files(ws: Workspace) -> None:
    reg = make_registry(ws.root, policy={"write_file": "allow"})
    for i in range(3):
        assert reg.run("write_file", {"path": "src/app.py", "content": f"v{i}\n"}, deny_all).ok
    assert sorted(os.listdir(ws.root / "src")) == ["app.py"]
    assert (ws.root / "src" / "app.py").read_text(encoding="utf-8") == "v2\n"


def test_a_file_changed_while_the_user_looked_is_not_overwritten(
    ws: Workspace, registry: ToolRegistry
) -> None:
    target = ws.root / "README.md"

    def edit_then_approve(_confirmation) -> bool:
        target.write_text("the user's own edit\n", encoding="utf-8")
        return True

    result = write(registry, edit_then_approve, path="README.md", content="model text\n")
    assert not result.ok
    assert result.output == "README.md changed since the diff was shown; nothing written"
    assert target.read_text(encoding="utf-8") == "the user's own edit\n"


def test_refusals(ws: Workspace, registry: ToolRegistry) -> None:
    (ws.root / "blob.txt").write_bytes(b"\0\1\2\3" * 10)
    cases = {
        ("src", "x"): "src is a folder",
        ("blob.txt", "text"): "blob.txt is binary (contains NUL bytes); not shown",
        ("a/b/c.txt", "x", False): "folder a/b does not exist (create_dirs is false)",
        ("x.txt", "a\0b"): "content contains NUL bytes; write_file writes text only",
        ("big.txt", "x" * 1_000_001): "content is over the 1,000,000-byte limit for write_file",
    }
    for key, message in cases.items():
        args = {"path": key[0], "content": key[1]}
        if len(key) == 3:
            args["create_dirs"] = key[2]
        result = registry.run("write_file", args, allow_all)
        assert not result.ok
        assert result.output == message
    assert not (ws.root / "a").exists() and not (ws.root / "x.txt").exists()
    assert (ws.root / "blob.txt").read_bytes() == b"\0\1\2\3" * 10


def test_lines_that_look_like_diff_headers_are_counted_right(
    ws: Workspace, registry: ToolRegistry
) -> None:
    (ws.root / "sig.txt").write_text("--- old signature\nkeep\n", encoding="utf-8")
    result = write(registry, allow_all, path="sig.txt", content="+++ new signature\nkeep\n")
    assert result.summary == "wrote sig.txt (+1 -1)"
