"""Themes from TOML files: the ones shipped in `themes/` and the user's `config/themes/`.

A theme file holds Textual `Theme` fields:

```toml
name = "magray-dark"      # optional; the file name without .toml otherwise
dark = true
primary = "#5fa8d3"
secondary = "#8d7ad8"
# accent, background, surface, panel, foreground, success, warning, error, boost

[variables]               # optional Textual design variables
"footer-key-foreground" = "#5fa8d3"
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from magray_tui.regular_file import read_regular
from magray_tui.toml_text import parse_toml

COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "foreground",
    "success",
    "warning",
    "error",
    "boost",
)
OTHER_KEYS = ("name", "dark", "variables", "luminosity_spread", "text_alpha")
DEFAULT_THEME = "magray-dark"
MAX_THEME_BYTES = 1024 * 1024


class ThemeFileError(Exception):
    """A theme file that cannot be used; the message names the file and the problem."""


@dataclass
class ThemeScan:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def shipped_themes_dir() -> Path:
    """`themes/` at the root of the source tree (next to the package)."""
    return Path(__file__).resolve().parents[2] / "themes"


def load_theme_file(path: Path) -> Theme:
    """A theme checked as far as Textual will use it (colours, numbers, the CSS of each
    variable), so a bad file is skipped with a message instead of stopping the app."""
    try:
        text = read_regular(path, max_bytes=MAX_THEME_BYTES).decode("utf-8")
    except OSError as exc:
        raise ThemeFileError(f"theme {path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ThemeFileError(f"theme {path}: cannot read it: {exc}") from None
    data = parse_toml(text, path, ThemeFileError, prefix="theme ", infix="not valid TOML: ")
    unknown = sorted(set(data) - set(COLOR_KEYS) - set(OTHER_KEYS))
    if unknown:
        raise ThemeFileError(f"theme {path}: unknown key(s): {', '.join(unknown)}")
    if "primary" not in data:
        raise ThemeFileError(f"theme {path}: 'primary' is required")
    for key in COLOR_KEYS:
        if key in data:
            _check_color(path, key, data[key])
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f"theme {path}: 'name' must be a non-empty string")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"theme {path}: 'dark' must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeFileError(f"theme {path}: [variables] must map names to strings")
    colors = {key: data[key] for key in COLOR_KEYS if key in data}
    extra = {
        k: _fraction(path, k, data[k]) for k in ("luminosity_spread", "text_alpha") if k in data
    }
    theme = Theme(name=name.strip(), dark=dark, variables=variables, **colors, **extra)
    _check_variables(path, theme)
    return theme


def _fraction(path: Path, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ThemeFileError(f"theme {path}: {key} must be a number from 0 to 1")
    if not 0 <= value <= 1:  # NaN fails too
        raise ThemeFileError(f"theme {path}: {key} = {value!r} is not from 0 to 1")
    return float(value)


def _check_variables(path: Path, theme: Theme) -> None:
    """Each design variable parsed as Textual's CSS will use it (a colour, a text style or
    a link style), with the theme's other variables defined."""
    from textual.css.stylesheet import Stylesheet

    try:
        defined = theme.to_color_system().generate()
    except Exception as exc:  # Textual's own checks, whatever they raise
        raise ThemeFileError(f"theme {path}: {exc}") from None
    for name in theme.variables:
        if name.startswith("link-style"):
            prop = "link-style"
        elif name.endswith("style"):
            prop = "text-style"
        else:
            prop = "color"
        sheet = Stylesheet(variables=defined)
        sheet.add_source(f"Widget {{ {prop}: ${name}; }}", read_from=(str(path), name))
        try:
            sheet.parse()
        except Exception:  # a tokenizer or stylesheet error: the value is not usable CSS
            value = theme.variables[name]
            raise ThemeFileError(
                f"theme {path}: [variables] {name} = {value[:40]!r} is not a valid {prop}"
            ) from None


def _check_color(path: Path, key: str, value: object) -> None:
    if not isinstance(value, str):
        raise ThemeFileError(f'theme {path}: {key} must be a colour string like "#1e88e5"')
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"theme {path}: {key} = {value!r} is not a colour") from None


def scan_theme_dirs(*folders: Path) -> ThemeScan:
    """Every `*.toml` theme in `folders`, in order (a later folder overrides a name)."""
    scan = ThemeScan()
    for folder in folders:
        try:
            files = sorted(folder.glob("*.toml"))
        except OSError as exc:
            scan.problems.append(f"cannot list themes in {folder}: {exc}")
            continue
        for path in files:
            try:
                scan.themes.append(load_theme_file(path))
            except ThemeFileError as exc:
                scan.problems.append(str(exc))
            except Exception as exc:  # a case the checks above missed: skip it all the same
                scan.problems.append(f"theme {path}: {type(exc).__name__}: {exc}")
    return scan
