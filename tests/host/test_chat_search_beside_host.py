"""`magray chat --search` beside an open magray: the search runs in the host (which owns the
store and the embedder), the hits come back over the socket with their types."""

from __future__ import annotations

from pathlib import Path

from tests.host.procs import cli, cli_json, start_host, stop


def test_chat_search_through_the_host(home: Path, llm_server) -> None:
    llm_server.text("Staging Postgres listens on port 5433.")
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(
        f'[llm]\nmodel = "openai/test-model"\napi_base = "{llm_server.url}"\n'
        "offline_model = false\n"
    )
    host = start_host(home)
    try:
        done = cli(home, "chat", "which port does staging listen on?", "--session", "ops")
        assert done.returncode == 0, done.stderr
        hits = cli_json(home, "chat", "--search", "staging database port")
        assert [h["session"] for h in hits[:2]] == ["ops", "ops"]
        assert {h["role"] for h in hits[:2]} == {"user", "assistant"}
        reply = next(h for h in hits if h["role"] == "assistant")
        assert reply["snippet"] == "Staging Postgres listens on port 5433."
        assert reply["before"] == "which port does staging listen on?"
        assert host.poll() is None
    finally:
        stop(host)
