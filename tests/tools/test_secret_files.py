"""read_file asks before showing a file that usually holds credentials (default policy)."""

from __future__ import annotations

import pytest

from magray_tui.tools import Policy
from magray_tui.tools.policy import is_secret_file
from tests.tools.conftest import Asker, Workspace, make_registry

SECRET = [
    ".env",
    ".env.local",
    ".env.production",
    "project/.envrc",
    "config/prod.env",
    "deploy/.env",
    "certs/tls.pem",
    "deploy/server.key",
    "home/.ssh/id_rsa",
    "id_ed25519",
    "keys/id_ecdsa_sk",
    ".netrc",
    "_netrc",
    ".pgpass",
    "certs/client.p12",
    "certs/client.pfx",
]
ORDINARY = [
    "README.md",
    "src/app.py",
    "home/.ssh/id_rsa.pub",
    "docs/environment.md",
    "src/env.py",
    "src/keys.py",
    "src/keyboard.txt",
    "notes/.envrc.md",
    "pem/readme.txt",
]


def _write(ws: Workspace, rel: str) -> None:
    path = ws.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("SECRET_VALUE=hunter2\n", encoding="utf-8")


@pytest.mark.parametrize("rel", SECRET)
def test_reading_a_secret_file_asks_first(ws: Workspace, rel: str) -> None:
    _write(ws, rel)
    reg = make_registry(ws.root)
    asker = Asker(answer=False)
    result = reg.run("read_file", {"path": rel}, asker)
    assert not result.ok
    assert result.output == f"the user declined: Read {rel}"
    assert [c.tool for c in asker.seen] == ["read_file"]
    assert "hunter2" not in result.output
    yes = Asker(answer=True)
    assert reg.run("read_file", {"path": rel}, yes).output == "SECRET_VALUE=hunter2"
    assert len(yes.seen) == 1


@pytest.mark.parametrize("rel", ORDINARY)
def test_ordinary_files_read_without_asking(ws: Workspace, rel: str) -> None:
    _write(ws, rel)
    asker = Asker(answer=False)
    result = make_registry(ws.root).run("read_file", {"path": rel}, asker)
    assert result.ok and asker.seen == []


def test_the_users_rules_come_first(ws: Workspace) -> None:
    _write(ws, ".env")
    _write(ws, "deploy/.env")
    reg = make_registry(ws.root, policy={"read_file:.env": "allow"})
    asker = Asker(answer=False)
    assert reg.run("read_file", {"path": ".env"}, asker).ok and asker.seen == []
    assert not reg.run("read_file", {"path": "deploy/.env"}, asker).ok
    deny = make_registry(ws.root, policy={"read_file:*.env": "deny"})
    refused = deny.run("read_file", {"path": ".env"}, asker)
    assert refused.output.startswith("policy denies read_file on '.env'")


def test_the_decision_names_the_rule() -> None:
    decision = Policy().decide("read_file", ("deploy/.env", "/ws/deploy/.env"))
    assert decision.action == "ask"
    assert decision.reason() == "default rule 'read_file:.env (may hold secrets)' = ask"
    assert [is_secret_file(p) for p in SECRET] == [True] * len(SECRET)
    assert [is_secret_file(p) for p in ORDINARY] == [False] * len(ORDINARY)
