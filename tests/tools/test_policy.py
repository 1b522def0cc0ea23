"""Policy: defaults, most-specific-wins, user rules over defaults, and config validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from magray_tui.config import ConfigError, load_settings
from magray_tui.tools import Policy, PolicyError, deny_all
from magray_tui.tools.policy import DEFAULT_POLICY
from tests.tools.conftest import Asker, Workspace, make_registry


@pytest.mark.parametrize(
    ("tool", "action"),
    [
        ("read_file", "allow"),
        ("list_directory", "allow"),
        ("search_files", "allow"),
        ("git_status", "allow"),
        ("git_diff", "allow"),
        ("search_memory", "allow"),
        ("write_file", "ask"),
        ("shell", "ask"),
        ("add_memory", "ask"),
        ("add_task", "ask"),
        ("a_future_tool", "ask"),
    ],
)
def test_defaults(tool: str, action: str) -> None:
    decision = Policy().decide(tool, ("x",))
    assert decision.action == action
    assert decision.default


def test_a_glob_beats_a_bare_rule_and_longer_literals_win() -> None:
    policy = Policy(
        {
            "read_file": "allow",
            "read_file:*.env": "deny",
            "read_file:config/*": "ask",
            "read_file:config/public.env": "allow",
        }
    )
    assert policy.decide("read_file", ("src/app.py",)).action == "allow"
    assert policy.decide("read_file", ("prod.env",)).action == "deny"
    assert policy.decide("read_file", ("config/x.toml",)).action == "ask"
    # "config/public.env" (17 literal chars) beats "*.env" (4) and "config/*" (7).
    assert policy.decide("read_file", ("config/public.env",)).action == "allow"
    assert policy.decide("read_file", ("config/other.env",)).action == "ask"


def test_ties_go_to_the_stricter_action() -> None:
    policy = Policy({"write_file:*.md": "allow", "write_file:docs*": "deny"})
    assert policy.decide("write_file", ("docs/a.md",)).action == "deny"


def test_an_exact_tool_beats_the_star() -> None:
    policy = Policy({"*": "deny", "read_file": "allow"})
    assert policy.decide("read_file", ("a",)).action == "allow"
    assert policy.decide("list_directory", ("a",)).action == "deny"
    assert policy.hides("list_directory") and not policy.hides("read_file")


def test_user_rules_come_before_the_defaults() -> None:
    # "*" = ask from the user makes even default-allowed reads ask.
    policy = Policy({"*": "ask"})
    decision = policy.decide("read_file", ("README.md",))
    assert decision.action == "ask" and not decision.default
    assert "'*' = ask" in decision.reason()


def test_a_glob_matches_either_the_relative_or_the_absolute_path() -> None:
    policy = Policy({"read_file:/srv/secret/*": "deny"})
    assert policy.decide("read_file", ("notes.txt", "/srv/secret/notes.txt")).action == "deny"
    assert policy.decide("read_file", ("notes.txt", "/srv/public/notes.txt")).action == "allow"


def test_hides_only_when_no_glob_rule_lets_some_calls_through() -> None:
    assert Policy({"write_file": "deny"}).hides("write_file")
    assert not Policy({"write_file": "deny", "write_file:docs/*": "ask"}).hides("write_file")
    assert not Policy({"write_file:secret/*": "deny"}).hides("write_file")


@pytest.mark.parametrize(
    ("key", "action", "message"),
    [
        ("read_file", "maybe", "not one of allow, ask, deny"),
        (":*.py", "allow", "tool name is empty"),
        ("read_file:", "allow", "pattern after ':' is empty"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(key: str, action: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy({key: action})


def test_the_config_file_validates_the_policy(home: Path) -> None:
    cfg = home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('[tools.policy]\n"read_file:*.env" = "Deny"\n', encoding="utf-8")
    assert load_settings(home).tools.policy == {"read_file:*.env": "deny"}
    cfg.write_text('[tools.policy]\n"read_file" = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2: tools\.policy\.read_file: .*'allow'"):
        load_settings(home)
    cfg.write_text('[tools.policy]\n"read_file:" = "deny"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"must be \"tool\" or \"tool:glob\""):
        load_settings(home)


def test_every_default_is_a_valid_rule() -> None:
    Policy(DEFAULT_POLICY)


# ---- the policy applied by the registry --------------------------------------------------


def test_a_denied_path_is_refused_after_resolution(ws: Workspace) -> None:
    (ws.root / "secrets").mkdir()
    (ws.root / "secrets" / "key.txt").write_text("hunter2\n", encoding="utf-8")
    reg = make_registry(ws.root, policy={"read_file:secrets/*": "deny"})
    for path in ("secrets/key.txt", "src/../secrets/key.txt", f"{ws.root}/secrets/key.txt"):
        result = reg.run("read_file", {"path": path}, deny_all)
        assert not result.ok
        assert "policy denies read_file on 'secrets/key.txt'" in result.output
        assert "hunter2" not in result.output
    assert reg.run("read_file", {"path": "README.md"}, deny_all).ok


def test_ask_calls_the_confirm_and_allow_does_not(ws: Workspace) -> None:
    reg = make_registry(ws.root, policy={"read_file:src/*": "ask"})
    asker = Asker(answer=False)
    refused = reg.run("read_file", {"path": "src/app.py"}, asker)
    assert not refused.ok and refused.output.startswith("the user declined")
    assert [c.tool for c in asker.seen] == ["read_file"]
    assert reg.run("read_file", {"path": "README.md"}, asker).ok
    assert len(asker.seen) == 1  # README.md falls to the default allow: not asked


def test_a_denied_tool_is_not_offered_and_says_why(ws: Workspace) -> None:
    reg = make_registry(ws.root, policy={"write_file": "deny"})
    assert "write_file" not in [s.name for s in reg.specs()]
    result = reg.run("write_file", {"path": "x.txt", "content": "x"}, Asker())
    assert not result.ok and "policy denies write_file" in result.output
    assert not (ws.root / "x.txt").exists()


def test_shell_allow_glob_runs_without_asking(ws: Workspace) -> None:
    reg = make_registry(ws.root, shell=True, policy={"shell:echo *": "allow"})
    asker = Asker(answer=False)
    assert reg.run("shell", {"command": "echo hi"}, asker).ok
    assert asker.seen == []
    assert not reg.run("shell", {"command": "true"}, asker).ok  # default: ask -> declined
    assert len(asker.seen) == 1
