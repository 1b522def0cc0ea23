"""User key remaps: an optional `[keys]` table in config.toml, binding id → key string.

```toml
[keys]
"memory.forget" = "x"          # one key
"pane.memory" = "2,m"          # several keys, comma-separated
```

Every binding in the TUI carries an id (see F1 help for the ids of the focused pane).
Unknown ids are reported and ignored; the rest is applied with `App.set_keymap`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textual.app import App
from textual.binding import Binding, BindingType


@dataclass
class KeymapReport:
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_keys(config_file: Path, known_ids: Iterable[str]) -> KeymapReport:
    """The `[keys]` table of `config_file`, split into usable remaps and problems."""
    report = KeymapReport()
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return report
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        report.problems.append(f"cannot read key remaps from {config_file}: {exc}")
        return report
    except RecursionError:  # tomllib recurses into nested arrays
        report.problems.append(f"cannot read key remaps from {config_file}: nested too deeply")
        return report
    table = data.get("keys", {})
    if not isinstance(table, dict):
        report.problems.append(f'{config_file}: [keys] must be a table of id = "key"')
        return report
    known = set(known_ids)
    for binding_id, key in table.items():
        if binding_id not in known:
            report.problems.append(f"[keys] {binding_id!r}: no binding has this id (ignored)")
        elif not isinstance(key, str) or not key.strip():
            report.problems.append(f"[keys] {binding_id!r}: the key must be a string (ignored)")
        else:
            report.keymap[binding_id] = ",".join(k.strip() for k in key.split(","))
    return report


def binding_ids(bindings: Iterable[BindingType]) -> list[str]:
    return [b.id for b in bindings if isinstance(b, Binding) and b.id]


def effective_key(binding: Binding, keymap: dict[str, str]) -> str:
    """The key(s) a binding answers to once the user's remaps are applied."""
    if binding.id and binding.id in keymap:
        return keymap[binding.id]
    return binding.key


def key_display(app: App, binding: Binding, keymap: dict[str, str]) -> str:
    """All the keys of a binding as shown to users, e.g. `↓/esc`."""
    keys = effective_key(binding, keymap).split(",")
    return "/".join(app.get_key_display(binding.with_key(k.strip())) for k in keys)
