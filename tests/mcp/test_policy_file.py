"""'Always for this client' written into config.toml: one rule added, nothing else moved."""

from __future__ import annotations

import tomllib

from magray_tui.config import load_settings
from magray_tui.mcp.policy_file import allow_always

CONFIG = """# my settings
[mcp.server]
ask_timeout_s = 30

[mcp.server.clients.claude-code]   # the editor
memory_forget = "ask"

[llm]
model = "offline"
"""


def test_the_rule_goes_into_the_clients_table_and_comments_stay(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    assert allow_always(path, "Claude Code", "memory_forget") is None
    assert allow_always(path, "Claude Code", "memory_update") is None
    text = path.read_text(encoding="utf-8")
    assert "# my settings" in text and "# the editor" in text
    assert tomllib.loads(text)["mcp"]["server"]["clients"]["claude-code"] == {
        "memory_forget": "allow",
        "memory_update": "allow",
    }
    assert tomllib.loads(text)["llm"] == {"model": "offline"}


def test_a_new_client_gets_its_own_table_and_settings_load_it(tmp_path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    path = home / "config" / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    assert allow_always(path, "cursor", "memory_promote") is None
    settings = load_settings(home)
    assert settings.mcp.server.clients["cursor"] == {"memory_promote": "allow"}
    assert settings.mcp.server.clients["claude-code"] == {"memory_forget": "ask"}
    assert allow_always(tmp_path / "new.toml", "goose", "memory_forget") is None
    assert tomllib.loads((tmp_path / "new.toml").read_text())["mcp"]["server"]["clients"] == {
        "goose": {"memory_forget": "allow"}
    }


def test_rules_it_cannot_edit_safely_leave_the_file_as_it_was(tmp_path):
    path = tmp_path / "config.toml"
    inline = '[mcp.server]\nclients = { aider = { memory_add = "deny" } }\n'
    path.write_text(inline, encoding="utf-8")
    problem = allow_always(path, "aider", "memory_forget")
    assert problem is not None and "not a plain table" in problem and "\n" not in problem
    assert path.read_text(encoding="utf-8") == inline
    path.write_text("[mcp.server\n", encoding="utf-8")
    problem = allow_always(path, "aider", "memory_forget")
    assert problem is not None and problem.startswith("cannot read")
    assert path.read_text(encoding="utf-8") == "[mcp.server\n"
