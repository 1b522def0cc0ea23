"""Splitting a file into chunks that respect its structure, with bounded size and overlap.

Every line gets a *break score*: how good a place it is to start a chunk.

- STRONG: a top-level definition (Python via `ast`, other code by layout: a line at
  column 0 after a blank line or a closing brace), a Markdown/RST heading.
- BLOCK: a paragraph start, a method inside a class, a line after a blank line.
- LINE: any other line; SPLIT: the inside of a line longer than a whole chunk.

Chunks are packed greedily up to `max_chars`: each one ends before the latest line with
the best score in its window (never making it smaller than a quarter of `max_chars`).
A cut inside a block (score LINE or SPLIT) repeats the last `overlap_chars` worth of lines
at the start of the next chunk; a cut at a structural boundary needs no overlap.
Line numbers are 1-based and inclusive, and refer to the file as the editor shows it.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from itertools import accumulate

from magray_tui.ingest.languages import PROSE

SPLIT, LINE, BLOCK, STRONG = 0, 1, 2, 3

CHUNKER_VERSION = 1
DEFAULT_MAX_CHARS = 800
DEFAULT_OVERLAP_CHARS = 120


@dataclass(frozen=True)
class Chunk:
    text: str
    start_line: int
    end_line: int
    section: str | None
    hash: str


def chunk_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# ---- scores --------------------------------------------------------------------------------
_CLOSERS = ("}", ")", "]")
_CONTINUATION_WORDS = "end fi done esac else elif except finally #endif #else #elif catch"
_CONTINUATIONS = frozenset(_CONTINUATION_WORDS.split())
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", ";", "<!--", "%")


def _is_closer(stripped: str) -> bool:
    if stripped.startswith(_CLOSERS):
        return True
    word = re.split(r"[\s:({;]", stripped, maxsplit=1)[0]
    return word in _CONTINUATIONS


def _label(line: str) -> str | None:
    text = line.strip()
    if not text or text.startswith(_COMMENT_STARTS) or text.startswith("@"):
        return None
    return text[:80]


def _code_scores(lines: list[str]) -> tuple[list[int], dict[int, str]]:
    scores = [LINE] * len(lines)
    labels: dict[int, str] = {}
    prev_blank, prev_closer = True, False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            prev_blank = True
            continue
        top = not line[0].isspace()
        closer = _is_closer(stripped)
        if top and not closer and (prev_blank or prev_closer):
            scores[i] = STRONG
        elif prev_blank:
            scores[i] = BLOCK
        if top and not closer and (label := _label(line)):
            labels[i] = label
        prev_blank, prev_closer = False, top and closer
    return scores, labels


def _attached_start(lines: list[str], start: int) -> int:
    """Move a definition's start up over the comment lines directly above it."""
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def _python_scores(text: str, lines: list[str]) -> tuple[list[int], dict[int, str]] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    scores, _ = _code_scores(lines)
    scores = [BLOCK if s == STRONG else s for s in scores]
    labels: dict[int, str] = {}
    n = len(lines)

    def start_of(node: ast.stmt) -> int:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return _attached_start(lines, first - 1)

    for node in tree.body:
        start = start_of(node)
        if start < n:
            scores[start] = STRONG
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            kind = "class" if isinstance(node, ast.ClassDef) else "def"
            labels[start] = f"{kind} {node.name}"
        if isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    at = start_of(inner)
                    if at < n:
                        scores[at] = max(scores[at], BLOCK)
                        labels[at] = f"{node.name}.{inner.name}"
    return scores, labels


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`*+#:._])\1{2,}\s*$")


def _markdown_scores(lines: list[str]) -> tuple[list[int], dict[int, str]]:
    scores = [LINE] * len(lines)
    labels: dict[int, str] = {}
    levels: dict[int, int] = {}
    fence: str | None = None
    prev_blank = True
    for i, line in enumerate(lines):
        blank = not line.strip()
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            elif prev_blank and not blank:
                scores[i] = BLOCK
        elif m:
            fence = m.group(1)
            scores[i] = BLOCK
        elif (h := _ATX.match(line)) and not blank:
            scores[i] = STRONG
            levels[i] = len(h.group(1))
            labels[i] = (h.group(2) or "").strip()[:80]
        elif _SETEXT.match(line) and not prev_blank and i > 0 and (i - 1) not in levels:
            scores[i - 1] = STRONG
            levels[i - 1] = 1 if line.strip()[0] == "=" else 2
            labels[i - 1] = lines[i - 1].strip()[:80]
        elif prev_blank and not blank:
            scores[i] = BLOCK
        prev_blank = blank
    return scores, _heading_paths(labels, levels)


def _heading_paths(labels: dict[int, str], levels: dict[int, int]) -> dict[int, str]:
    """Each heading's label as a path from the top: 'Install › Linux'."""
    stack: list[tuple[int, str]] = []
    out: dict[int, str] = {}
    for i in sorted(labels):
        level = levels.get(i, 1)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, labels[i]))
        out[i] = " › ".join(t for _, t in stack if t)[:160]
    return out


def _prose_scores(lines: list[str], rst: bool) -> tuple[list[int], dict[int, str]]:
    scores = [LINE] * len(lines)
    labels: dict[int, str] = {}
    prev_blank = True
    for i, line in enumerate(lines):
        blank = not line.strip()
        if rst and i > 0 and _RST_UNDERLINE.match(line) and lines[i - 1].strip():
            title = lines[i - 1].strip()
            if len(line.strip()) >= len(title) and not _RST_UNDERLINE.match(lines[i - 1]):
                scores[i - 1] = STRONG
                labels[i - 1] = title[:80]
        elif prev_blank and not blank:
            scores[i] = BLOCK
        prev_blank = blank
    return scores, labels


def score_lines(text: str, lines: list[str], language: str) -> tuple[list[int], dict[int, str]]:
    if language == "python":
        found = _python_scores(text, lines)
        if found is not None:
            return found
    if language == "markdown":
        return _markdown_scores(lines)
    if language in PROSE:
        return _prose_scores(lines, rst=language == "rst")
    return _code_scores(lines)


# ---- packing -------------------------------------------------------------------------------
def _pieces(line: str, max_chars: int) -> list[str]:
    """A line longer than a chunk, cut at spaces where possible."""
    out = []
    while len(line) > max_chars:
        cut = line.rfind(" ", max_chars // 2, max_chars)
        cut = cut + 1 if cut > 0 else max_chars
        out.append(line[:cut])
        line = line[cut:]
    if line:
        out.append(line)
    return out


def chunk_text(
    text: str,
    language: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap_chars: int = DEFAULT_OVERLAP_CHARS,
) -> list[Chunk]:
    max_chars = max(64, int(max_chars))
    overlap_chars = max(0, min(int(overlap_chars), max_chars // 4))
    min_chars = max_chars // 4
    lines = split_lines(text)
    scores, labels = score_lines(text, lines, language)

    seg_line: list[int] = []
    seg_text: list[str] = []
    seg_score: list[int] = []
    for i, line in enumerate(lines):
        parts = [line] if len(line) < max_chars else _pieces(line, max_chars - 1)
        for j, part in enumerate(parts):
            seg_line.append(i)
            seg_text.append(part)
            seg_score.append(scores[i] if j == 0 else SPLIT)
    n = len(seg_text)
    cum = [0, *accumulate(len(t) + 1 for t in seg_text)]
    blank = [not t.strip() for t in seg_text]
    label_lines = sorted(labels)

    chunks: list[Chunk] = []
    s, prev_cut = 0, 0
    while s < n:
        while s < n and blank[s]:
            s += 1
        if s >= n:
            break
        e = s
        while e < n and cum[e + 1] - cum[s] <= max_chars:
            e += 1
        e = max(e, s + 1)
        if e >= n:
            cut = n
        else:
            cut, best = e, -1
            for c in range(e, max(s, prev_cut), -1):
                if cum[c] - cum[s] < min_chars:
                    break
                if seg_score[c] > best:
                    cut, best = c, seg_score[c]
        end = cut
        while end > s and blank[end - 1]:
            end -= 1
        if end > s:
            body = [seg_text[s]]
            for k in range(s + 1, end):
                body.append(("" if seg_line[k] == seg_line[k - 1] else "\n") + seg_text[k])
            chunk = "".join(body)
            first, last = seg_line[s], seg_line[end - 1]
            chunks.append(
                Chunk(chunk, first + 1, last + 1, _section(label_lines, labels, first), "")
            )
        prev_cut = cut
        nxt = cut
        if cut < n and seg_score[cut] <= LINE and overlap_chars:
            acc = 0
            while nxt - 1 > s and acc + (cum[nxt] - cum[nxt - 1]) <= overlap_chars:
                nxt -= 1
                acc += cum[nxt + 1] - cum[nxt]
            # The next window must reach past this cut, or it would only repeat the overlap.
            while nxt < cut and cum[cut + 1] - cum[nxt] > max_chars:
                nxt += 1
        s = nxt
    return [Chunk(c.text, c.start_line, c.end_line, c.section, chunk_hash(c.text)) for c in chunks]


def _section(label_lines: list[int], labels: dict[int, str], line: int) -> str | None:
    """The label (definition or heading path) in force at `line`."""
    from bisect import bisect_right

    at = bisect_right(label_lines, line)
    return labels[label_lines[at - 1]] if at else None
