"""The Tasks pane's filter box: one line of words, `state:` and `tag:` terms included.

`state:ready,blocked` (or `is:ready`) keeps those states, `state:open` the unfinished
ones; `tag:release` (or `#release`) one tag; every other word must occur in the task
(`TodoService.list(text=...)`: id, title, description, tags, notes).
"""

from __future__ import annotations

from dataclasses import dataclass

from magray_tui.todo.model import CLOSED_STATES, TaskError, TaskState


@dataclass(frozen=True)
class TaskFilter:
    states: tuple[TaskState, ...] | None = None
    tag: str | None = None
    text: str = ""
    problem: str | None = None  # what could not be read (the rest still applies)

    @property
    def empty(self) -> bool:
        return self.states is None and self.tag is None and not self.text

    def describe(self) -> str:
        parts = []
        if self.states is not None:
            parts.append("state " + ", ".join(s.value.replace("_", " ") for s in self.states))
        if self.tag is not None:
            parts.append(f"tag {self.tag}")
        if self.text:
            parts.append(f"containing {self.text!r}")
        return " · ".join(parts)


def parse_filter(line: str) -> TaskFilter:
    states: list[TaskState] | None = None
    tag: str | None = None
    words: list[str] = []
    problem: str | None = None
    for word in line.split():
        key, sep, value = word.partition(":")
        if sep and key.lower() in ("state", "is", "s") and value:
            states = states or []
            for name in value.split(","):
                if name.lower() == "open":
                    states += [s for s in TaskState if s not in CLOSED_STATES]
                    continue
                try:
                    states.append(TaskState.parse(name))
                except TaskError as exc:
                    problem = str(exc)
        elif sep and key.lower() == "tag" and value:
            tag = value
        elif word.startswith("#") and len(word) > 1 and not word[1:].isdigit():
            tag = word[1:]
        else:
            words.append(word)
    unique = tuple(dict.fromkeys(states)) if states else None
    return TaskFilter(unique, tag, " ".join(words), problem)
