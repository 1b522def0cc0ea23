"""Pure algorithms over a set of tasks (id -> Task): order, cycles, critical path, search.

No I/O here, so the rules can be tested and benchmarked on plain dictionaries.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from magray_tui.todo.model import CLOSED_STATES, Task, TaskState, parse_ref

FAR_FUTURE = datetime(9999, 12, 31)


def urgency(task: Task) -> tuple:
    """Sort key: priority (critical first), due date (soonest first, none last), age."""
    return (task.priority.rank, task.due_at or FAR_FUTURE, task.created_at, task.num)


def dependents_map(tasks: Mapping[str, Task]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {tid: [] for tid in tasks}
    for task in tasks.values():
        for on in task.deps:
            if on in out:
                out[on].append(task.id)
    return out


def topo_order(tasks: Mapping[str, Task]) -> list[Task]:
    """Kahn's algorithm: each task after all it depends on; among the tasks free to come
    next, the most urgent first. Tasks on a cycle (never stored) would come last."""
    indegree = {tid: sum(1 for on in t.deps if on in tasks) for tid, t in tasks.items()}
    dependents = dependents_map(tasks)
    heap = [(urgency(t), tid) for tid, t in tasks.items() if indegree[tid] == 0]
    heapq.heapify(heap)
    out: list[Task] = []
    while heap:
        _, tid = heapq.heappop(heap)
        out.append(tasks[tid])
        for dep in dependents[tid]:
            indegree[dep] -= 1
            if indegree[dep] == 0:
                heapq.heappush(heap, (urgency(tasks[dep]), dep))
    if len(out) < len(tasks):
        seen = {t.id for t in out}
        out.extend(sorted((t for t in tasks.values() if t.id not in seen), key=urgency))
    return out


def dep_path(tasks: Mapping[str, Task], start: str, goal: str) -> list[str] | None:
    """Ids from `start` to `goal` following "depends on" edges, or None (BFS: shortest)."""
    came: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for tid in frontier:
            if tid == goal:
                path = [tid]
                while came[path[-1]] is not None:
                    path.append(came[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            task = tasks.get(tid)
            for on in task.deps if task else ():
                if on not in came:
                    came[on] = tid
                    nxt.append(on)
        frontier = nxt
    return None


def parent_chain(tasks: Mapping[str, Task], start: str | None) -> list[str]:
    """`start`, its parent, its parent's parent, ... (stops at a repeat, never loops)."""
    chain: list[str] = []
    while start is not None and start not in chain and start in tasks:
        chain.append(start)
        start = tasks[start].parent
    return chain


def ancestors(tasks: Mapping[str, Task], tid: str) -> set[str]:
    """Everything `tid` depends on, transitively."""
    seen: set[str] = set()
    stack = list(tasks[tid].deps) if tid in tasks else []
    while stack:
        cur = stack.pop()
        if cur in seen or cur not in tasks:
            continue
        seen.add(cur)
        stack.extend(tasks[cur].deps)
    return seen


def descendants(tasks: Mapping[str, Task], tid: str) -> set[str]:
    """Everything that depends on `tid`, transitively."""
    dependents = dependents_map(tasks)
    seen: set[str] = set()
    stack = list(dependents.get(tid, ()))
    while stack:
        cur = stack.pop()
        if cur not in seen:
            seen.add(cur)
            stack.extend(dependents[cur])
    return seen


def depth_levels(order: Iterable[Task], tasks: Mapping[str, Task]) -> dict[str, int]:
    """Longest chain of dependencies below each task (0 for a task with none)."""
    level: dict[str, int] = {}
    for task in order:
        level[task.id] = 1 + max((level[d] for d in task.deps if d in level), default=-1)
    return level


def critical_path(
    tasks: Mapping[str, Task], order: Sequence[Task] | None = None
) -> tuple[list[Task], float]:
    """The chain of open tasks with the largest total estimate (missing estimate = 0;
    ties go to the longer chain). Done, failed and cancelled tasks are finished work.
    `order`: a topological order of `tasks` already at hand (saves sorting again)."""
    if order is None:
        order = topo_order(tasks)
    best: dict[str, tuple[float, int]] = {}
    prev: dict[str, str | None] = {}
    for task in (t for t in order if t.state not in CLOSED_STATES):
        own = task.estimate_hours or 0.0
        choice: str | None = None
        score = (0.0, 0)
        for on in task.deps:
            if on in best and best[on] > score:
                score, choice = best[on], on
        best[task.id] = (score[0] + own, score[1] + 1)
        prev[task.id] = choice
    if not best:
        return [], 0.0
    end = max(best, key=lambda tid: (best[tid], -tasks[tid].num))
    chain = [end]
    while prev[chain[-1]] is not None:
        chain.append(prev[chain[-1]])  # type: ignore[arg-type]
    return [tasks[tid] for tid in reversed(chain)], best[end][0]


def matches_text(task: Task, words: list[str]) -> bool:
    """Every word (lower case) occurs in the id, title, description, tags or notes."""
    hay = " ".join((task.id, task.title, task.description, " ".join(task.tags), task.notes))
    hay = hay.lower()
    return all(word in hay for word in words)


def _subsequence_span(needle: str, hay: str) -> int | None:
    """Length of the shortest-from-first-match window holding `needle` in order, or None."""
    pos = start = -1
    for ch in needle:
        pos = hay.find(ch, pos + 1)
        if pos < 0:
            return None
        if start < 0:
            start = pos
    return pos - start + 1


def fuzzy_score(task: Task, query: str) -> float:
    """Higher is better, 0 is no match: id > title (exact, prefix, word, substring,
    subsequence) > tags > description."""
    q = query.strip().lower()
    if not q:
        return 1.0
    num = parse_ref(q)
    if num is not None and num == task.num:
        return 1000.0
    title = task.title.lower()
    if title == q:
        return 900.0
    if title.startswith(q):
        return 800.0
    at = title.find(q)
    if at > 0:
        return 700.0 if not title[at - 1].isalnum() else 600.0
    tags = [t.lower() for t in task.tags]
    if q in tags:
        return 550.0
    if any(q in t for t in tags):
        return 450.0
    if q in task.description.lower():
        return 350.0
    words = q.split()
    if len(words) > 1 and matches_text(task, words):
        return 300.0
    span = _subsequence_span(q.replace(" ", ""), title)
    if span is not None:
        return 100.0 + 100.0 * len(q.replace(" ", "")) / span
    return 0.0


def fuzzy_search(tasks: Iterable[Task], query: str, limit: int) -> list[Task]:
    scored = [(fuzzy_score(t, query), t) for t in tasks]
    hits = [(s, t) for s, t in scored if s > 0]
    hits.sort(key=lambda st: (-st[0], st[1].state in CLOSED_STATES, urgency(st[1])))
    return [t for _, t in hits[: max(0, limit)]]


def deps_done(task: Task, tasks: Mapping[str, Task]) -> bool:
    return all(tasks[on].state is TaskState.DONE for on in task.deps if on in tasks)


def unfinished_deps(task: Task, tasks: Mapping[str, Task]) -> list[str]:
    return [on for on in task.deps if on in tasks and tasks[on].state is not TaskState.DONE]
