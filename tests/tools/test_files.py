"""read_file, list_directory and search_files on real folders."""

from __future__ import annotations

import codecs

from magray_tui.tools import ToolRegistry, deny_all
from tests.tools.conftest import Workspace, make_registry


def read(reg: ToolRegistry, **args):
    return reg.run("read_file", args, deny_all)


# ---- read_file --------------------------------------------------------------------------


def test_reads_a_whole_file_without_asking(registry: ToolRegistry) -> None:
    result = read(registry, path="README.md")
    assert result.ok
    assert result.output == "# Demo\n\nA small demo project."
    assert result.summary == "read README.md (3 lines)"


def test_line_ranges_are_one_based_and_inclusive(registry: ToolRegistry) -> None:
    result = read(registry, path="src/app.py", start_line=3, end_line=5)
    assert result.output.splitlines()[:3] == ["line 3", "line 4", "line 5"]
    assert "[lines 3-5 of 20]" in result.output
    assert result.summary == "read src/app.py (lines 3-5 of 20)"
    tail = read(registry, path="src/app.py", start_line=19)
    assert tail.output == "line 19\nline 20"
    numbered = read(registry, path="src/app.py", start_line=9, end_line=10, line_numbers=True)
    assert numbered.output.splitlines()[:2] == [" 9  line 9", "10  line 10"]


def test_bad_ranges_are_explained(registry: ToolRegistry) -> None:
    backwards = read(registry, path="src/app.py", start_line=5, end_line=2)
    assert not backwards.ok and "end_line (2) is before start_line (5)" in backwards.output
    past = read(registry, path="src/app.py", start_line=50)
    assert not past.ok and "past the end of src/app.py (20 lines)" in past.output


def test_output_is_cut_at_the_cap_on_a_line_boundary(ws: Workspace) -> None:
    (ws.root / "big.txt").write_text(
        "".join(f"{i:05d} " + "x" * 94 + "\n" for i in range(1, 501)), encoding="utf-8"
    )
    reg = make_registry(ws.root, output_cap_bytes=1000)
    result = reg.run("read_file", {"path": "big.txt"}, deny_all)
    assert result.ok
    lines = result.output.splitlines()
    assert lines[:9] == [f"{i:05d} " + "x" * 94 for i in range(1, 10)]
    assert "continue with start_line=10" in lines[-1]
    assert result.summary == "read big.txt (lines 1-9 of 500)"
    nxt = reg.run("read_file", {"path": "big.txt", "start_line": 10}, deny_all)
    assert nxt.output.startswith("00010 ")


def test_binary_files_are_refused_with_a_message(ws: Workspace, registry: ToolRegistry) -> None:
    (ws.root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (ws.root / "blob.txt").write_bytes(b"abc\0def" * 100)
    png = read(registry, path="logo.png")
    assert not png.ok and png.output == "logo.png is a binary file type; not shown"
    blob = read(registry, path="blob.txt")
    assert not blob.ok and "blob.txt is binary (contains NUL bytes)" in blob.output


def test_encodings_are_detected_like_ingestion(ws: Workspace, registry: ToolRegistry) -> None:
    (ws.root / "legacy.txt").write_bytes("café – naïve\n".encode("cp1252"))
    (ws.root / "wide.txt").write_bytes(
        codecs.BOM_UTF16_LE + "héllo\r\nwörld\r\n".encode("utf-16-le")
    )
    legacy = read(registry, path="legacy.txt")
    assert legacy.ok and legacy.output.startswith("café – naïve")
    assert "[not UTF-8: decoded as cp1252]" in legacy.output
    assert legacy.summary.endswith(", cp1252)")
    wide = read(registry, path="wide.txt")
    assert wide.ok and wide.output.startswith("héllo\nwörld")


def test_missing_folders_empty_and_huge_files(ws: Workspace, registry: ToolRegistry) -> None:
    assert read(registry, path="nope.txt").output == "not found: nope.txt"
    assert read(registry, path="src").output == "src is a folder; use list_directory"
    (ws.root / "empty.txt").write_bytes(b"")
    empty = read(registry, path="empty.txt")
    assert empty.ok and empty.output == "" and "empty file" in empty.summary
    with open(ws.root / "huge.log", "wb") as fh:
        fh.truncate(10_000_001)  # sparse: cheap to make
    huge = read(registry, path="huge.log")
    assert not huge.ok and "over the 10,000,000-byte limit" in huge.output


# ---- list_directory ---------------------------------------------------------------------


def test_lists_folders_first_with_sizes(ws: Workspace, registry: ToolRegistry) -> None:
    (ws.root / "docs").mkdir()
    (ws.root / "link").symlink_to("README.md")
    result = registry.run("list_directory", {}, deny_all)
    assert result.ok
    size = (ws.root / "README.md").stat().st_size
    assert result.output.splitlines() == [
        "docs/",
        "src/",
        f"README.md  ({size} B)",
        "link@  (symlink, not followed)",
    ]
    assert result.summary == "listed .: 2 folders, 2 files"


def test_ignored_entries_are_hidden_and_counted(ws: Workspace, registry: ToolRegistry) -> None:
    (ws.root / ".gitignore").write_text("build/\n*.log\n", encoding="utf-8")
    (ws.root / "build").mkdir()
    (ws.root / "run.log").write_text("x", encoding="utf-8")
    (ws.root / "node_modules").mkdir()
    result = registry.run("list_directory", {"path": "."}, deny_all)
    names = result.output.splitlines()
    assert "build/" not in names and "run.log  (1 B)" not in names
    assert "node_modules/" not in names
    assert names[-1] == "[3 ignored entries hidden; include_ignored shows them]"
    everything = registry.run("list_directory", {"include_ignored": True}, deny_all)
    assert {"build/", "node_modules/", "run.log  (1 B)"} <= set(everything.output.splitlines())


def test_depth_indents_nested_entries(ws: Workspace, registry: ToolRegistry) -> None:
    (ws.root / "src" / "pkg").mkdir()
    (ws.root / "src" / "pkg" / "m.py").write_text("", encoding="utf-8")
    size = (ws.root / "src" / "app.py").stat().st_size
    result = registry.run("list_directory", {"path": "src", "depth": 3}, deny_all)
    assert result.output.splitlines() == ["pkg/", "  m.py  (0 B)", f"app.py  ({size} B)"]
    shallow = registry.run("list_directory", {"path": "src"}, deny_all)
    assert shallow.output.splitlines() == ["pkg/", f"app.py  ({size} B)"]


def test_listing_a_file_or_nothing_is_explained(registry: ToolRegistry) -> None:
    assert registry.run("list_directory", {"path": "README.md"}, deny_all).output == (
        "README.md is a file; use read_file"
    )
    assert registry.run("list_directory", {"path": "zzz"}, deny_all).output == "not found: zzz"


# ---- search_files -----------------------------------------------------------------------


def test_substring_search_is_case_insensitive_by_default(registry: ToolRegistry) -> None:
    result = registry.run("search_files", {"query": "DEMO"}, deny_all)
    assert result.ok
    assert result.output.splitlines() == [
        "README.md:1: # Demo",
        "README.md:3: A small demo project.",
    ]
    assert result.summary == "2 matches in 1 files (2 files searched)"
    strict = registry.run("search_files", {"query": "DEMO", "case_sensitive": True}, deny_all)
    assert strict.output == "no matches for 'DEMO' under ."


def test_regex_glob_and_limits(registry: ToolRegistry) -> None:
    result = registry.run("search_files", {"query": r"line 1\d$", "regex": True}, deny_all)
    assert [x.split(":")[1] for x in result.output.splitlines()] == [str(n) for n in range(10, 20)]
    # Without regex the same text is literal.
    literal = registry.run("search_files", {"query": r"line 1\d$"}, deny_all)
    assert literal.output.startswith("no matches")
    capped = registry.run("search_files", {"query": "line", "max_results": 3}, deny_all)
    assert len(capped.output.splitlines()) == 4
    assert capped.output.endswith("[stopped at max_results=3]")
    only_md = registry.run("search_files", {"query": "line", "glob": "*.md"}, deny_all)
    assert only_md.output.startswith("no matches")


def test_invalid_regex_is_a_clear_error(registry: ToolRegistry) -> None:
    result = registry.run("search_files", {"query": "(unclosed", "regex": True}, deny_all)
    assert not result.ok
    assert result.output == "invalid regular expression: missing ): (unclosed"


def test_search_honours_gitignore_and_skips_binaries(ws: Workspace) -> None:
    (ws.root / ".gitignore").write_text("generated/\n", encoding="utf-8")
    (ws.root / "generated").mkdir()
    (ws.root / "generated" / "out.txt").write_text("needle\n", encoding="utf-8")
    (ws.root / "node_modules").mkdir()
    (ws.root / "node_modules" / "dep.js").write_text("needle\n", encoding="utf-8")
    (ws.root / "data.bin").write_bytes(b"needle\0\0\0")
    (ws.root / "src" / "found.txt").write_text("a needle here\n", encoding="utf-8")
    reg = make_registry(ws.root)
    result = reg.run("search_files", {"query": "needle"}, deny_all)
    assert result.output.splitlines()[0] == "src/found.txt:1: a needle here"
    assert "generated" not in result.output and "node_modules" not in result.output
    assert "[1 binary or large files skipped]" in result.output
    # Naming an ignored folder searches it: naming it means wanting it.
    inside = reg.run("search_files", {"query": "needle", "path": "generated"}, deny_all)
    assert inside.output.splitlines() == ["generated/out.txt:1: needle"]
