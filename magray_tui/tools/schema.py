"""Checking tool arguments against the tools' own JSON schemas.

Only the part of JSON Schema our specs use: object/string/integer/number/boolean/array,
properties, required, additionalProperties false, enum, minimum/maximum, minLength/
maxLength, maxItems and items. Kept here (no jsonschema dependency) so every message is one
line a model can act on: "start_line must be an integer (got '5')".
Types are strict as in JSON: true is not an integer and "5" is not a number.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}
_ARTICLE = {"object": "an object", "integer": "an integer", "array": "an array"}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _type_ok(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def check(value: Any, schema: dict[str, Any], where: str = "arguments") -> str | None:
    """The first problem with `value`, as one line, or None when it fits `schema`."""
    kind = schema.get("type")
    if kind and not _type_ok(value, kind):
        return f"{where} must be {_ARTICLE.get(kind, 'a ' + kind)} (got {_show(value)})"
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(str(x) for x in schema["enum"])
        return f"{where} must be one of: {options} (got {_show(value)})"
    if kind in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where} must be at least {schema['minimum']} (got {value})"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where} must be at most {schema['maximum']} (got {value})"
    if kind == "string":
        if len(value) < schema.get("minLength", 0):
            return (
                f"{where} must not be empty"
                if schema["minLength"] == 1
                else (f"{where} must have at least {schema['minLength']} characters")
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return (
                f"{where} is too long ({len(value):,} characters, at most {schema['maxLength']:,})"
            )
    if kind == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{where} has too many items ({len(value)}, at most {schema['maxItems']})"
        items = schema.get("items")
        if items:
            for i, item in enumerate(value):
                problem = check(item, items, f"{where}[{i}]")
                if problem:
                    return problem
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                return f"missing required argument {name!r}"
        if schema.get("additionalProperties") is False:
            extra = sorted(k for k in value if k not in props)
            if extra:
                known = ", ".join(props) or "none"
                return f"unknown argument {extra[0]!r} (arguments: {known})"
        for name, sub in props.items():
            if name in value:
                problem = check(value[name], sub, name)
                if problem:
                    return problem
    return None


def obj(required: tuple[str, ...] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema that refuses unknown arguments (a typo should not pass silently)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }
