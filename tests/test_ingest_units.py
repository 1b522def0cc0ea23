"""Ingest building blocks without a store: ignore rules, decoding, chunking, walking."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from magray_tui.ingest.chunker import STRONG, chunk_text, score_lines, split_lines
from magray_tui.ingest.ignore import IgnoreMatcher, parse_rule
from magray_tui.ingest.languages import detect_language, kind_of
from magray_tui.ingest.textfile import NotText, decode, read_text_file
from magray_tui.ingest.walker import Walker


# ---- ignore rules ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "expected"),
    [
        ("*.log", "a/b/x.log", False, True),
        ("*.log", "a/b/x.logs", False, False),
        ("/build", "build", True, True),
        ("/build", "src/build", True, False),
        ("build/", "src/build", True, True),
        ("build/", "src/build", False, False),  # dir-only pattern, a file named build
        ("doc/*.txt", "doc/a.txt", False, True),
        ("doc/*.txt", "doc/sub/a.txt", False, False),
        ("doc/**/*.txt", "doc/sub/deep/a.txt", False, True),
        ("doc/**/*.txt", "doc/a.txt", False, True),
        ("**/tmp", "x/y/tmp", True, True),
        ("lib/**", "lib/a/b.py", False, True),
        ("file[0-9].py", "file7.py", False, True),
        ("file[!0-9].py", "file7.py", False, False),
        ("\\#notes", "#notes", False, True),
        ("a?c", "abc", False, True),
    ],
)
def test_gitignore_patterns(
    tmp_path: Path, pattern: str, path: str, is_dir: bool, expected: bool
) -> None:
    m = IgnoreMatcher(tmp_path, [pattern], defaults=())
    assert m.ignored(str(tmp_path / path), is_dir) is expected


def test_comments_blanks_and_negation(tmp_path: Path) -> None:
    assert parse_rule("# comment") is None
    assert parse_rule("   ") is None
    (tmp_path / ".gitignore").write_text("*.txt\n!keep.txt\n\n# c\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("keep.txt\n")  # deeper file wins
    m = IgnoreMatcher(tmp_path, defaults=())
    assert m.ignored(str(tmp_path / "a.txt"), False)
    assert not m.ignored(str(tmp_path / "keep.txt"), False)
    assert m.ignored(str(tmp_path / "sub" / "keep.txt"), False)
    assert not m.ignored(str(tmp_path / "a.py"), False)
    # extra patterns (--ignore) win over .gitignore
    m2 = IgnoreMatcher(tmp_path, ["keep.txt"], defaults=())
    assert m2.ignored(str(tmp_path / "keep.txt"), False)


def test_git_global_excludes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, repo = tmp_path / "home", tmp_path / "repo"
    (home / ".config" / "git").mkdir(parents=True)
    repo.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    # The default place: ~/.config/git/ignore.
    (home / ".config" / "git" / "ignore").write_text("*.secret\nscratch/\n")
    m = IgnoreMatcher(repo, defaults=())
    assert m.ignored(str(repo / "db.secret"), False)
    assert m.ignored(str(repo / "scratch"), True)
    assert not m.ignored(str(repo / "db.py"), False)
    # The repository's own rules win over the global ones (as in git).
    (repo / ".gitignore").write_text("!keep.secret\n")
    assert not IgnoreMatcher(repo, defaults=()).ignored(str(repo / "keep.secret"), False)
    # core.excludesFile in ~/.gitconfig replaces the default file (with ~ expanded).
    (home / "my-excludes").write_text("*.bak\n")
    (home / ".gitconfig").write_text(
        '[user]\n\tname = x\n[core]\n\teditor = vim\n\texcludesFile = "~/my-excludes"\n'
    )
    m = IgnoreMatcher(repo, defaults=())
    assert m.ignored(str(repo / "old.bak"), False)
    assert not m.ignored(str(repo / "db.secret"), False)
    # --no-gitignore turns the global excludes off too.
    assert not IgnoreMatcher(repo, defaults=(), use_gitignore=False).ignored(
        str(repo / "old.bak"), False
    )
    # A missing excludes file is no error.
    (home / ".gitconfig").write_text("[core]\n\texcludesfile = /no/such/file\n")
    assert not IgnoreMatcher(repo, defaults=()).ignored(str(repo / "old.bak"), False)


def test_ignored_deep_and_defaults(tmp_path: Path) -> None:
    m = IgnoreMatcher(tmp_path)
    assert m.ignored_deep(str(tmp_path / ".git" / "objects" / "ab"), False)
    assert m.ignored_deep(str(tmp_path / "node_modules" / "x" / "index.js"), False)
    assert not m.ignored_deep(str(tmp_path / "src" / "main.py"), False)
    assert m.ignored_deep("/elsewhere/file.py", False)  # outside the root


# ---- decoding --------------------------------------------------------------------------------
def test_decode_encodings() -> None:
    assert decode("héllo".encode()) == ("héllo", "utf-8", None)
    assert decode(b"\xef\xbb\xbfbom")[0:2] == ("bom", "utf-8-sig")
    text, enc, note = decode("naïve café".encode("utf-16"))
    assert (text, enc) == ("naïve café", "utf-16") and note
    text, enc, _ = decode("plain words here".encode("utf-16-le"))
    assert (text, enc) == ("plain words here", "utf-16-le")
    text, enc, note = decode("Café “quoted”".encode("cp1252"))
    assert (text, enc) == ("Café “quoted”", "cp1252") and "not UTF-8" in note
    text, enc, _ = decode(b"caf\xe9 \x81\x8d")  # bytes cp1252 leaves undefined
    assert enc == "latin-1" and text.startswith("café")
    with pytest.raises(NotText):
        decode(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00")


def test_read_text_file_limits(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"one\r\ntwo\rthree\n")
    tf = read_text_file(str(p), 1000)
    assert tf.text == "one\ntwo\nthree\n" and tf.size == 15
    with pytest.raises(ValueError):
        read_text_file(str(p), 5)
    png = tmp_path / "x.png"
    png.write_text("not really")
    with pytest.raises(NotText):
        read_text_file(str(png), 1000)


def test_languages() -> None:
    assert detect_language("/x/a.py") == "python"
    assert detect_language("/x/README.md") == "markdown"
    assert detect_language("/x/Makefile") == "make"
    assert detect_language("/x/run", "#!/usr/bin/env python3") == "python"
    assert detect_language("/x/run", "#!/bin/bash") == "shell"
    assert detect_language("/x/data.unknown") == "text"
    assert kind_of("markdown") == "doc" and kind_of("python") == "code"


# ---- chunking --------------------------------------------------------------------------------
def _py_module(n: int, body_lines: int = 12) -> str:
    parts = ['"""Module docstring."""', "", "import os", ""]
    for i in range(n):
        parts += ["", f"@decorator{i}", f"def function_{i}(x):", f'    """Doc of {i}."""']
        parts += [f"    y = x + {j}  # line {j} of function {i}" for j in range(body_lines)]
        parts.append("    return y")
    return "\n".join(parts) + "\n"


def test_python_chunks_start_at_top_level_definitions() -> None:
    text = _py_module(12)
    lines = split_lines(text)
    chunks = chunk_text(text, "python", max_chars=800, overlap_chars=100)
    assert len(chunks) > 2
    for c in chunks:
        assert len(c.text) <= 800
        # exact line ranges: the text is those lines of the file
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
    for c in chunks[1:]:
        assert c.text.startswith("@decorator"), c.text[:40]
        assert c.section and c.section.startswith("def function_")
    covered = {n for c in chunks for n in range(c.start_line, c.end_line + 1)}
    assert {i + 1 for i, line in enumerate(lines) if line.strip()} <= covered


def test_long_definition_is_split_with_overlap() -> None:
    text = _py_module(1, body_lines=120)
    chunks = chunk_text(text, "python", max_chars=600, overlap_chars=150)
    assert len(chunks) >= 4
    for a, b in itertools.pairwise(chunks[1:]):
        assert b.start_line <= a.end_line  # cut inside the function: lines repeat
    assert all(len(c.text) <= 600 for c in chunks)
    assert all(c.section == "def function_0" for c in chunks[1:])


def test_markdown_chunks_follow_headings_not_code_fences() -> None:
    sections = []
    for i in range(6):
        sections.append(f"## Section {i}\n\n" + f"Paragraph {i} words here. " * 12 + "\n")
    fence = "```\n# not a heading\n" + "code line\n" * 5 + "```\n"
    text = "# Title\n\nIntro.\n\n" + "\n".join(sections) + "\n" + fence
    scores, _ = score_lines(text, split_lines(text), "markdown")
    fence_line = split_lines(text).index("# not a heading")
    assert scores[fence_line] != STRONG
    chunks = chunk_text(text, "markdown", max_chars=400)
    starts = [c for c in chunks if c.text.startswith("## Section")]
    assert len(starts) >= 4
    assert any(c.section == "Title › Section 3" for c in chunks)


def test_giant_line_and_edge_cases() -> None:
    assert chunk_text("", "text") == []
    assert chunk_text("\n\n   \n", "text") == []
    minified = "var a=1;" * 2000
    chunks = chunk_text(minified, "javascript", max_chars=500)
    assert len(chunks) >= len(minified) // 500
    assert all(len(c.text) <= 500 and c.start_line == c.end_line == 1 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == minified.replace(" ", "")


def test_code_layout_scores_other_languages() -> None:
    go = "package main\n\nfunc a() {\n\treturn\n}\nfunc b() {\n}\n\n// doc\nfunc c() {}\n"
    scores, _ = score_lines(go, split_lines(go), "go")
    lines = split_lines(go)
    strong = [lines[i] for i, s in enumerate(scores) if s == STRONG]
    assert strong == ["package main", "func a() {", "func b() {", "// doc"]


# ---- walking ---------------------------------------------------------------------------------
def _walk(root: Path, max_bytes: int = 10_000, extra: tuple[str, ...] = ()):
    skips: dict[str, list[str]] = {}
    walker = Walker(
        os.path.realpath(root),
        IgnoreMatcher(root, extra),
        max_bytes,
        lambda reason, path: skips.setdefault(reason, []).append(os.path.basename(path)),
    )
    found = sorted(os.path.relpath(e.path, os.path.realpath(root)) for e in walker.walk())
    return found, skips


def test_walker_reports_every_skip(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n")
    (root / "big.txt").write_text("y" * 20_000)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".gitignore").write_text("*.tmp\n")
    (root / "scratch.tmp").write_text("tmp\n")
    (root / "notes.md").write_text("# notes\n")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    os.symlink(outside, root / "escape.txt")
    os.symlink(tmp_path, root / "escape_dir")
    os.symlink(root, root / "src" / "parent_loop")
    os.symlink(root / "self_a", root / "self_b")
    os.symlink(root / "self_b", root / "self_a")
    os.symlink(root / "nowhere", root / "dangling")
    os.symlink(root / "notes.md", root / "notes_link.md")
    os.mkfifo(root / "pipe")
    found, skips = _walk(root, max_bytes=10_000, extra=("notes_*",))
    assert found == [".gitignore", "notes.md", os.path.join("src", "a.py")]
    assert skips["too_large"] == ["big.txt"]
    assert sorted(skips["ignored"]) == [".git", "notes_link.md", "scratch.tmp"]
    assert sorted(skips["outside_root"]) == ["escape.txt", "escape_dir"]
    assert sorted(skips["symlink_loop"]) == ["parent_loop", "self_a", "self_b"]
    assert skips["broken_symlink"] == ["dangling"]
    assert skips["special"] == ["pipe"]


def test_walker_unreadable_folder_and_missing_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("a\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.txt").write_text("b\n")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("magray_tui.ingest.walker.os.scandir", scandir)
    found, skips = _walk(tmp_path)
    assert found == [os.path.join("ok", "a.txt")]
    assert skips["unreadable"] == ["locked"]
    found, skips = _walk(tmp_path / "missing")
    assert found == [] and skips["missing"] == ["missing"]
