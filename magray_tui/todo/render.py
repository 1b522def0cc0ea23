"""Text forms of the DAG for the CLI and for sharing: Mermaid and an indented list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from magray_tui.todo.graph import depth_levels
from magray_tui.todo.model import Task, TaskState

_MERMAID_STYLE = {
    TaskState.DONE: "fill:#d4f7d4,stroke:#2e7d32",
    TaskState.IN_PROGRESS: "fill:#d6e9ff,stroke:#1565c0",
    TaskState.BLOCKED: "fill:#fff3cd,stroke:#b26a00",
    TaskState.FAILED: "fill:#fde0e0,stroke:#c62828",
    TaskState.CANCELLED: "fill:#eeeeee,stroke:#9e9e9e,stroke-dasharray: 4 3",
}


def _mermaid_label(task: Task) -> str:
    text = " ".join(f"{task.glyph} {task.id}: {task.title}".split())
    for bad, good in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(bad, good)
    return text


def to_mermaid(order: Sequence[Task]) -> str:
    """A Mermaid flowchart: an arrow from each prerequisite to the task waiting on it."""
    shown = {t.id for t in order}
    lines = ["flowchart TD"]
    for task in order:
        lines.append(f'    {task.id}["{_mermaid_label(task)}"]')
    for task in order:
        for on in task.deps:
            if on in shown:
                lines.append(f"    {on} --> {task.id}")
    used = sorted({t.state for t in order if t.state in _MERMAID_STYLE})
    for state in used:
        lines.append(f"    classDef {state.value} {_MERMAID_STYLE[state]}")
        ids = ",".join(t.id for t in order if t.state is state)
        lines.append(f"    class {ids} {state.value}")
    return "\n".join(lines) + "\n"


def to_text(order: Sequence[Task], tasks: Mapping[str, Task]) -> str:
    """Topological list indented by dependency depth, each line naming what it waits on."""
    levels = depth_levels(order, tasks)
    lines = []
    for task in order:
        pad = "  " * levels.get(task.id, 0)
        after = f"  ← {', '.join(task.deps)}" if task.deps else ""
        lines.append(f"{pad}{task.glyph} {task.id} {' '.join(task.title.split())}{after}")
    return "\n".join(lines) + ("\n" if lines else "")
