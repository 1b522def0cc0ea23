"""search_files cannot be made to hang: catastrophic regexes, a deadline inside one file,
FIFOs swapped in for files (and for a .gitignore), secret files not searched."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magray_tui.ingest.textfile import NotRegularFile, read_text_file
from magray_tui.tools import ToolRegistry, ToolResult, deny_all
from magray_tui.tools import search as search_module
from magray_tui.tools.regex import compile_regex
from tests.tools.conftest import Workspace

HANG_LIMIT_S = 60.0  # far above any honest run; only a hang gets there


def _finishes(call: Callable[[], ToolResult], unblock: Callable[[], None] | None = None):
    """Run `call` in a thread; fail (and unblock it) if it has not returned in time."""
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", call()), daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    if thread.is_alive():
        if unblock is not None:
            unblock()
        pytest.fail("the call hung")
    return box["result"]


CATASTROPHIC = [
    ("(a+)+$", "a" * 30 + "b"),
    ("(a|aa)+$", "a" * 40 + "!"),
    ("(x+x+)+y", "x" * 2000),
    ("(.*a){20}b", "ab" * 1000),
    ("^(([a-z])+.)+[A-Z]([a-z])+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"),
    ("(\\w+\\s?)+$", "word " * 300 + "!"),
    ("(?:a?){300}a{300}$", "a" * 299),
]


@pytest.mark.parametrize(("pattern", "line"), CATASTROPHIC)
def test_a_catastrophic_regex_returns_at_once(
    ws: Workspace, registry: ToolRegistry, pattern: str, line: str
) -> None:
    (ws.root / "evil.txt").write_text(f"{line}\n{line}\n", encoding="utf-8")
    result = _finishes(
        lambda: registry.run("search_files", {"query": pattern, "regex": True}, deny_all)
    )
    assert result.ok
    # Same answer as a backtracking engine would give, had it finished (checked on the
    # prefix it can finish on).
    expected = re.search(pattern, line[:18] + line[-1]) is not None
    small = registry.run(
        "search_files", {"query": pattern, "regex": True, "glob": "small.txt"}, deny_all
    )
    assert small.ok
    (ws.root / "small.txt").write_text(line[:18] + line[-1] + "\n", encoding="utf-8")
    small = registry.run(
        "search_files", {"query": pattern, "regex": True, "glob": "small.txt"}, deny_all
    )
    assert small.output.startswith("small.txt:1:") is expected


def test_regex_matches_like_before_on_ordinary_patterns(
    ws: Workspace, registry: ToolRegistry
) -> None:
    (ws.root / "code.py").write_text(
        "def load_user(user_id):\n    return db.get(user_id)\nclass Loader:\n", encoding="utf-8"
    )
    cases = {
        r"def \w+\(": ["code.py:1: def load_user(user_id):"],
        r"^class\s+\w+:$": ["code.py:3: class Loader:"],
        r"USER_ID\)$": ["code.py:2: return db.get(user_id)"],  # case-insensitive by default
        r"\bget\b": ["code.py:2: return db.get(user_id)"],
    }
    for pattern, hits in cases.items():
        result = registry.run(
            "search_files", {"query": pattern, "regex": True, "glob": "*.py"}, deny_all
        )
        assert result.output.splitlines() == hits, pattern
    sensitive = registry.run(
        "search_files",
        {"query": r"USER_ID", "regex": True, "case_sensitive": True, "glob": "*.py"},
        deny_all,
    )
    assert sensitive.output == "no matches for 'USER_ID' under ."


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid regular expression: invalid escape sequence: \\1 (RE2 syntax"),
        (r"(?<=a)b", "invalid regular expression: invalid perl operator: (?<"),
        (r"x(?=y)", "invalid regular expression: invalid perl operator: (?="),
        ("(((a{100}){100}){100})", "invalid regular expression: invalid repetition size"),
        ("(.{1,50}){1,20}" * 8 + "z", "invalid regular expression: pattern too large"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_in_one_line(
    registry: ToolRegistry, pattern: str, reason: str
) -> None:
    result = registry.run("search_files", {"query": pattern, "regex": True}, deny_all)
    assert not result.ok
    assert result.output.startswith(reason), result.output
    assert "\n" not in result.output


def test_the_deadline_holds_inside_one_file(
    ws: Workspace, registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slow lines in one big file: the search stops at the deadline, in the middle of the
    file (the old budget was only checked between files)."""
    monkeypatch.setattr(search_module, "TIME_BUDGET_S", 0.3)
    (ws.root / "big.txt").write_text(("a" * 1999 + "\n") * 900, encoding="utf-8")
    # About 0.1 s per line here: 900 lines would take minutes without the deadline.
    slow = "(.{1,50}){1,20}z"
    result = _finishes(
        lambda: registry.run(
            "search_files", {"query": slow, "regex": True, "glob": "big.txt"}, deny_all
        )
    )
    assert result.ok
    assert result.summary == "0 matches in 0 files (1 files searched)"
    assert result.output.splitlines()[-1] == (
        "[stopped after 0.3 s: the pattern is too slow for this much text; narrow the path or glob]"
    )


def _fifo_unblocker(path: Path) -> Callable[[], None]:
    def unblock() -> None:  # opening the write end releases a reader stuck in open()
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)

    return unblock


def test_a_fifo_is_not_read_by_ingest(tmp_path: Path) -> None:
    fifo = tmp_path / "notes.txt"
    os.mkfifo(fifo)
    box: dict[str, BaseException] = {}

    def read() -> None:
        try:
            read_text_file(str(fifo), 1_000_000)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    if thread.is_alive():
        _fifo_unblocker(fifo)()
        pytest.fail("reading a FIFO hung")
    assert isinstance(box["error"], NotRegularFile)


def test_a_symlink_swapped_in_is_not_followed_by_ingest(tmp_path: Path, ws: Workspace) -> None:
    link = tmp_path / "notes.txt"
    link.symlink_to(ws.canary)
    with pytest.raises(OSError):
        read_text_file(str(link), 1_000_000)


def test_a_file_swapped_for_a_fifo_after_listing_does_not_hang_search(
    ws: Workspace, registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = ws.root / "src" / "swap.txt"
    target.write_text("needle\n", encoding="utf-8")
    (ws.root / "src" / "later.txt").write_text("needle later\n", encoding="utf-8")
    real_walker = search_module.Walker

    class SwappingWalker(real_walker):  # type: ignore[misc, valid-type]
        """Lists the folder, then (as an attacker racing the search would) replaces the
        listed file by a FIFO before it is read."""

        def walk(self, *args, **kwargs):
            for entry in super().walk(*args, **kwargs):
                if entry.path == str(target):
                    target.unlink()
                    os.mkfifo(target)
                yield entry

    monkeypatch.setattr(search_module, "Walker", SwappingWalker)
    result = _finishes(
        lambda: registry.run("search_files", {"query": "needle"}, deny_all),
        _fifo_unblocker(target),
    )
    assert result.ok
    assert result.output.splitlines()[0] == "src/later.txt:1: needle later"
    assert "swap.txt" not in result.output


def test_a_fifo_gitignore_does_not_hang_the_folder_tools(
    ws: Workspace, registry: ToolRegistry
) -> None:
    gitignore = ws.root / ".gitignore"
    os.mkfifo(gitignore)
    (ws.root / "src" / ".gitignore").symlink_to(gitignore)  # a link to it, too
    for name, args in (
        ("search_files", {"query": "line 7"}),
        ("list_directory", {"depth": 2}),
    ):
        result = _finishes(
            lambda n=name, a=args: registry.run(n, a, deny_all), _fifo_unblocker(gitignore)
        )
        assert result.ok, result.output
    found = registry.run("search_files", {"query": "line 7"}, deny_all)
    assert found.output.splitlines()[0] == "src/app.py:7: line 7"


def test_files_that_may_hold_secrets_are_not_searched(
    ws: Workspace, registry: ToolRegistry
) -> None:
    secrets = [".env", ".env.local", "config/prod.env", "deploy/server.key", "certs/tls.pem"]
    for rel in secrets:
        path = ws.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("API_TOKEN=sk-live-123\n", encoding="utf-8")
    (ws.root / "settings.py").write_text("API_TOKEN = os.environ['X']\n", encoding="utf-8")
    result = registry.run(
        "search_files", {"query": "API_TOKEN", "path": ".", "max_results": 50}, deny_all
    )
    assert result.output.splitlines() == [
        "settings.py:1: API_TOKEN = os.environ['X']",
        "[5 files that may hold secrets (.env, keys) not searched; read_file asks before "
        "showing one]",
    ]
    assert "sk-live-123" not in result.output


BLOCK_PATTERNS = [
    r"^def \w+",
    r"\)$",
    r"^$",
    r"a\sb",
    r"[^x]+z",
    r"(?s)a.b",
    r"^\s*#",
    r"foo|^bar$",
    r"\bx\b",
    r"\Afoo",
    r"z\z",
    r"(?i)AB+C",
    r".{30,}",
    r"\d{3}-\d{4}",
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(BLOCK_PATTERNS),
    st.lists(st.text(alphabet="abcxz fo#()\t-0123456789def_\\ndB", max_size=60), max_size=80),
)
def test_block_search_finds_exactly_the_lines_a_line_search_finds(
    pattern: str, lines: list[str]
) -> None:
    lines = [x.replace("\n", " ") for x in lines]
    regex = compile_regex(pattern, case_sensitive=False)
    expected = [n for n, line in enumerate(lines) if regex.line(line)]
    assert list(search_module._matching_lines(lines, regex, float("inf"))) == expected
