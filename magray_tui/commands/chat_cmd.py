"""`magray chat "message"`: one memory-grounded reply, streamed to stdout.

The same agent as the TUI's Chat pane. Confirmations (writes, commands) are asked on the
terminal when stdin is one, and denied otherwise.
"""

from __future__ import annotations

import sys
import threading

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import dump_json, echo
from magray_tui.terminal_text import one_line


def _confirm_on_terminal(confirmation) -> bool:
    if not sys.stdin.isatty():
        echo(f"denied (not interactive): {confirmation.title}", err=True)
        return False
    echo(f"\n{confirmation.title}\n{confirmation.detail}", err=True)
    return click.confirm("Allow?", default=False, err=True)


# A message piped in (`magray chat < notes.md`) is read up to this; /dev/zero is not a chat.
MAX_STDIN_BYTES = 4 * 1024 * 1024


def _read_stdin() -> str:
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise click.ClickException(
            f"the message on standard input is over {MAX_STDIN_BYTES:,} bytes; "
            "put large files in memory with `magray ingest` and ask about them"
        )
    if b"\0" in data:
        raise click.ClickException("the message on standard input is binary (it holds NUL)")
    return data.decode("utf-8", errors="replace")


@click.command("chat")
@click.argument("message", nargs=-1)
@click.option("--session", "session_name", help="continue (or start) the session of this name")
@click.option("--sessions", "list_sessions", is_flag=True, help="list the chat sessions")
@click.option("--export", "export_path", type=click.Path(), help="write --session as Markdown")
@click.option("--search", "search_query", help="search the messages of every session")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="--search results as JSON")
@pass_app
def command(
    app: AppContext,
    message: tuple[str, ...],
    session_name: str | None,
    list_sessions: bool,
    export_path: str | None,
    search_query: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Send MESSAGE to the agent and stream its reply (slash commands work too)."""
    from magray_tui.agent.model import ChatError
    from magray_tui.memory.records import MemoryError_
    from magray_tui.services import Services

    settings = app.settings()
    services = Services(settings)
    try:
        agent = services.new_agent()
        sessions = agent.sessions
        if list_sessions:
            for s in sessions.list():
                echo(f"{s.id}  {s.updated_at:%Y-%m-%d %H:%M}  {s.message_count:>4}  {s.name}")
            return
        if search_query is not None:
            _print_search(sessions.search(search_query, k=limit), search_query, as_json)
            return
        if as_json:
            raise click.UsageError("--json goes with --search")
        if export_path:
            if not session_name:
                raise click.UsageError("--export needs --session NAME")
            path = sessions.export_markdown(sessions.get(session_name).id, export_path)
            echo(f"exported to {path}")
            return
        text = " ".join(message).strip()
        if not text:
            text = _read_stdin() if not sys.stdin.isatty() else ""
        if not text.strip():
            raise click.UsageError('give a message: magray chat "hello"')
        if session_name:
            session = sessions.get_or_create(session_name)
        else:
            session = sessions.create(" ".join(text.split())[:40])
        status = _stream(agent, session.id, text)
        agent.wait_background()
        if status in ("error",):
            sys.exit(1)
        if status == "cancelled":
            sys.exit(130)
    except (ChatError, MemoryError_) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


def _print_search(hits: list, query: str, as_json: bool) -> None:
    if as_json:
        dump_json([hit.to_dict() for hit in hits])
        return
    if not hits:
        echo(f"no chat message matches {one_line(query)!r}")
        return
    for hit in hits:
        who = {"user": "you", "notice": "command output"}.get(hit.role, hit.role)
        head = (
            f"{hit.created_at:%Y-%m-%d %H:%M}  {one_line(hit.session_name, 40)}  ({hit.session_id})"
        )
        echo(f"{head}  #{hit.message_id}  {hit.score:.2f}")
        if hit.before:
            echo(f"    … {one_line(hit.before)}")
        echo(f"    {who}: {one_line(hit.snippet)}")


def _stream(agent, session_id: str, text: str) -> str:
    from magray_tui.agent import model as m

    cancel = threading.Event()
    status = "complete"
    wrote_reply = False
    try:
        for event in agent.run_turn(session_id, text, confirm=_confirm_on_terminal, cancel=cancel):
            if isinstance(event, m.MemoriesUsed) and event.memories:
                ids = ", ".join(r.id for r in event.memories)
                echo(f"[{len(event.memories)} memories: {ids}]", err=True)
            elif isinstance(event, m.ReplyDelta):
                echo(event.text, nl=False)
                wrote_reply = True
            elif isinstance(event, m.ToolStarted):
                echo(f"\n[tool {event.name} {event.arguments}]", err=True)
            elif isinstance(event, m.ToolFinished):
                echo(f"[{'ok' if event.ok else 'failed'}: {event.summary}]", err=True)
                if not wrote_reply and event.output:
                    echo(event.output)
            elif isinstance(event, m.Notice):
                echo(event.text, err=event.level != "info")
            elif isinstance(event, m.PlanProposed):
                echo(event.preview)
                if sys.stdin.isatty() and click.confirm("Add these tasks?", default=False):
                    tasks = agent.apply_plan(event.plan)
                    echo(f"added {len(tasks)} tasks")
                else:
                    echo("not applied (use `magray tasks plan --yes` to apply)", err=True)
            elif isinstance(event, m.TurnDone):
                status = event.status
                if wrote_reply:
                    echo()
                if event.error:
                    echo(f"error: {event.error}", err=True)
    except KeyboardInterrupt:
        cancel.set()
        echo("\n[cancelled]", err=True)
        return "cancelled"
    return status
