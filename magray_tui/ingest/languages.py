"""Which language a file holds (by extension, well-known name, or shebang), and its kind."""

from __future__ import annotations

import os

EXTENSIONS: dict[str, str] = {
    "py": "python",
    "pyi": "python",
    "pyx": "cython",
    "pxd": "cython",
    "ipynb": "json",
    "js": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "jsx": "javascript",
    "ts": "typescript",
    "tsx": "typescript",
    "mts": "typescript",
    "rs": "rust",
    "go": "go",
    "java": "java",
    "kt": "kotlin",
    "kts": "kotlin",
    "scala": "scala",
    "swift": "swift",
    "c": "c",
    "h": "c",
    "cc": "cpp",
    "cpp": "cpp",
    "cxx": "cpp",
    "hpp": "cpp",
    "hh": "cpp",
    "hxx": "cpp",
    "cs": "csharp",
    "rb": "ruby",
    "php": "php",
    "lua": "lua",
    "pl": "perl",
    "pm": "perl",
    "r": "r",
    "jl": "julia",
    "hs": "haskell",
    "ml": "ocaml",
    "ex": "elixir",
    "exs": "elixir",
    "erl": "erlang",
    "clj": "clojure",
    "el": "elisp",
    "dart": "dart",
    "zig": "zig",
    "nim": "nim",
    "sh": "shell",
    "bash": "shell",
    "zsh": "shell",
    "fish": "shell",
    "ps1": "powershell",
    "bat": "batch",
    "sql": "sql",
    "html": "html",
    "htm": "html",
    "xml": "xml",
    "svg": "xml",
    "css": "css",
    "scss": "css",
    "sass": "css",
    "less": "css",
    "vue": "vue",
    "svelte": "svelte",
    "json": "json",
    "jsonl": "json",
    "yaml": "yaml",
    "yml": "yaml",
    "toml": "toml",
    "ini": "ini",
    "cfg": "ini",
    "conf": "ini",
    "tcss": "css",
    "proto": "protobuf",
    "graphql": "graphql",
    "tf": "terraform",
    "cmake": "cmake",
    "mk": "make",
    "md": "markdown",
    "markdown": "markdown",
    "mdx": "markdown",
    "rst": "rst",
    "txt": "text",
    "text": "text",
    "adoc": "asciidoc",
    "org": "org",
    "tex": "latex",
    "csv": "csv",
    "tsv": "csv",
    "log": "text",
}

NAMES: dict[str, str] = {
    "makefile": "make",
    "gnumakefile": "make",
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "cmakelists.txt": "cmake",
    "rakefile": "ruby",
    "gemfile": "ruby",
    "justfile": "make",
    "license": "text",
    "copying": "text",
    "readme": "text",
    "changelog": "text",
    "authors": "text",
}

SHEBANGS = {
    "python": "python",
    "python3": "python",
    "sh": "shell",
    "bash": "shell",
    "zsh": "shell",
    "node": "javascript",
    "ruby": "ruby",
    "perl": "perl",
}

# Prose: chunked by headings and paragraphs, stored with kind "doc".
PROSE = frozenset({"markdown", "rst", "text", "asciidoc", "org", "latex"})


def detect_language(path: str, first_line: str = "") -> str:
    name = os.path.basename(path).lower()
    if name in NAMES:
        return NAMES[name]
    if name.startswith("dockerfile"):
        return "dockerfile"
    ext = os.path.splitext(name)[1][1:]
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if first_line.startswith("#!"):
        words = first_line[2:].strip().split()
        if words:
            prog = os.path.basename(words[0])
            if prog == "env" and len(words) > 1:
                prog = words[1]
            prog = prog.rstrip("0123456789.") or prog
            for key, lang in SHEBANGS.items():
                if prog == key.rstrip("0123456789"):
                    return lang
    return "text"


def kind_of(language: str) -> str:
    return "doc" if language in PROSE else "code"
