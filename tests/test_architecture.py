"""The memory core's seams, checked on the source: its parts use each other's public
names only, every BEGIN/COMMIT/ROLLBACK is in one place, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "magray_tui"
CORE = sorted([*ROOT.joinpath("memory").glob("*.py"), *ROOT.joinpath("db").glob("*.py")])


def _own_privates(tree: ast.Module) -> set[str]:
    """Private names this module defines (methods, `self._x = ...` attributes)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("_"):
            names.add(node.name)
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return names


def _private_uses(path: Path) -> list[str]:
    """`x._name` where x is not self / cls and `_name` is not this module's own: reaching
    into another module's privates."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _own_privates(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        if name in own or (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            continue
        found.append(f"{path.name}:{node.lineno} .{name}")
    return found


def test_memory_and_db_parts_use_only_public_names_of_each_other() -> None:
    assert len(CORE) > 20
    offenders = [use for path in CORE for use in _private_uses(path)]
    assert offenders == []


def test_transactions_are_written_in_one_place() -> None:
    words = ("BEGIN TRANSACTION", '"COMMIT"', '"ROLLBACK"')
    places = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if any(w in p.read_text(encoding="utf-8") for w in words)
    )
    assert places == ["db/tx.py"]


def test_memory_and_db_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CORE}
    assert {name: n for name, n in sizes.items() if n > 350} == {}
