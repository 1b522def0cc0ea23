"""The registry: specs for the model, argument checking, and run() that never raises."""

from __future__ import annotations

import json

import pytest

from magray_tui.config import ToolSettings
from magray_tui.tools import Confirmation, Policy, ToolRegistry, ToolResult, ToolSpec, deny_all
from magray_tui.tools.base import Prepared, Tool
from tests.tools.conftest import Workspace


def test_specs_are_openai_function_schemas(registry: ToolRegistry) -> None:
    names = [s.name for s in registry.specs()]
    assert names == [
        "read_file",
        "list_directory",
        "search_files",
        "write_file",
        "git_status",
        "git_diff",
    ]
    schema = registry.get("read_file").openai_schema()
    assert schema["type"] == "function"
    fn = schema["function"]
    assert fn["name"] == "read_file" and fn["description"]
    assert fn["parameters"]["required"] == ["path"]
    assert fn["parameters"]["additionalProperties"] is False
    json.dumps([s.openai_schema() for s in registry.specs()])  # serialisable as sent
    assert registry.get("nope") is None


def test_default_accepts_the_tools_section_alone(ws: Workspace) -> None:
    reg = ToolRegistry.default(ToolSettings(workspace_roots=[ws.root]))
    assert reg.run("read_file", {"path": "README.md"}, deny_all).ok
    assert reg.sandbox is not None and reg.sandbox.primary == str(ws.root.resolve())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('{"path": ', "arguments are not valid JSON: Expecting value at character 9"),
        ("[1, 2]", "arguments must be a JSON object"),
        ('"README.md"', "arguments must be a JSON object"),
        ("{}", "invalid arguments: missing required argument 'path'"),
        ('{"path": 7}', "invalid arguments: path must be a string (got 7)"),
        ('{"path": "README.md", "start_line": "2"}', "start_line must be an integer (got '2')"),
        ('{"path": "README.md", "start_line": true}', "start_line must be an integer (got True)"),
        ('{"path": "README.md", "start_line": 0}', "start_line must be at least 1 (got 0)"),
        ('{"path": "README.md", "lines": 3}', "unknown argument 'lines' (arguments: path,"),
        ('{"path": ""}', "invalid arguments: path must not be empty"),
        ("[" * 100_000 + "]" * 100_000, "arguments are not valid JSON: nested too deeply"),
        ('{"path": "x"}' + " " * 2_000_001, "arguments are too long (2,000,014 characters)"),
    ],
    ids=lambda v: v[:30] if isinstance(v, str) else None,
)
def test_bad_arguments_are_explained(registry: ToolRegistry, arguments: str, message: str) -> None:
    result = registry.run("read_file", arguments, deny_all)
    assert not result.ok
    assert message in result.output
    assert "\n" not in result.summary and len(result.summary) <= 160


def test_arguments_may_be_a_json_string_a_dict_or_empty(registry: ToolRegistry) -> None:
    assert registry.run("read_file", '{"path": "README.md"}', deny_all).ok
    assert registry.run("read_file", {"path": "README.md"}, deny_all).ok
    assert registry.run("list_directory", "", deny_all).ok
    assert registry.run("list_directory", None, deny_all).ok


@pytest.mark.parametrize(
    "name", ["", "READ_FILE", "read_file ", None, 42, "x" * 10_000], ids=lambda v: repr(v)[:20]
)
def test_unknown_names_never_raise(registry: ToolRegistry, name) -> None:
    result = registry.run(name, {}, deny_all)
    assert not result.ok and result.output.startswith("unknown tool ")
    assert len(result.output) < 300


@pytest.mark.parametrize("arguments", [42, 3.5, ["path"], b'{"path": "README.md"}', object()])
def test_arguments_of_odd_types_never_raise(registry: ToolRegistry, arguments) -> None:
    result = registry.run("read_file", arguments, deny_all)
    assert not result.ok and result.output == "arguments must be a JSON object"


def test_a_confirm_that_raises_counts_as_no(ws: Workspace, registry: ToolRegistry) -> None:
    def broken(_: Confirmation) -> bool:
        raise RuntimeError("the modal went away")

    result = registry.run("write_file", {"path": "x.txt", "content": "x"}, broken)
    assert not result.ok and result.output.startswith("the user declined")
    assert not (ws.root / "x.txt").exists()


def test_a_tool_bug_becomes_a_result_not_a_traceback() -> None:
    def prepare(_args):
        return Prepared(("x",), Confirmation("boom", "Boom", ""), lambda: 1 / 0)

    spec = ToolSpec("boom", "always fails", {"type": "object", "properties": {}})
    reg = ToolRegistry([Tool(spec, prepare)], Policy({"boom": "allow"}))
    result = reg.run("boom", {}, deny_all)
    assert result == ToolResult(
        False,
        "failed unexpectedly: division by zero",
        "boom: failed unexpectedly: division by zero",
    )


def test_outputs_are_capped_by_the_registry_too() -> None:
    def prepare(_args):
        return Prepared(
            ("x",), Confirmation("big", "Big", ""), lambda: ToolResult(True, "z" * 10_000, "s")
        )

    spec = ToolSpec("big", "large output", {"type": "object", "properties": {}})
    reg = ToolRegistry([Tool(spec, prepare)], Policy({"big": "allow"}), cap=1000)
    result = reg.run("big", {}, deny_all)
    assert result.ok and result.output == "z" * 2024 + "\n[output truncated]"
