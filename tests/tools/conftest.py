"""Real temp workspaces (and a real git repo) for the tool tests.

Every workspace has a sibling folder `outside/` holding a canary file: a test that finds
the canary's text in a tool's output, or any change in `outside/`, has found an escape.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from magray_tui.config import Settings
from magray_tui.tools import Confirmation, ToolRegistry


@dataclass
class Asker:
    """Stands in for the user at the confirmation prompt: records what was shown."""

    answer: bool = True
    seen: list[Confirmation] = field(default_factory=list)

    def __call__(self, confirmation: Confirmation) -> bool:
        self.seen.append(confirmation)
        return self.answer


@dataclass
class Workspace:
    root: Path
    outside: Path
    canary: Path
    secret: str

    def snapshot_outside(self) -> dict[str, bytes]:
        out = {}
        for path in sorted(self.outside.rglob("*")):
            if path.is_file() and not path.is_symlink():
                out[str(path.relative_to(self.outside))] = path.read_bytes()
            else:
                out[str(path.relative_to(self.outside))] = b"<dir>"
        return out


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    outside.mkdir()
    secret = f"CANARY-{uuid.uuid4().hex}"
    canary = outside / "canary.txt"
    canary.write_text(secret + "\n", encoding="utf-8")
    (root / "README.md").write_text("# Demo\n\nA small demo project.\n", encoding="utf-8")
    (root / "src" / "app.py").write_text(
        "".join(f"line {i}\n" for i in range(1, 21)), encoding="utf-8"
    )
    return Workspace(root, outside, canary, secret)


def make_registry(
    root: Path, *, memory: Any = None, todo: Any = None, **tools: Any
) -> ToolRegistry:
    settings = Settings(tools={"workspace_roots": [str(root)], **tools})
    return ToolRegistry.default(settings, memory=memory, todo=todo, cwd=root)


@pytest.fixture
def registry(ws: Workspace) -> ToolRegistry:
    return make_registry(ws.root)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def repo(ws: Workspace) -> Path:
    """The workspace as a git repository with one commit."""
    git(ws.root, "init", "-q", "-b", "main")
    git(ws.root, "add", "-A")
    git(ws.root, "commit", "-q", "-m", "first")
    return ws.root
