"""Slash commands: explicit actions typed in the chat, never sent to the model.

Each handler takes the agent, the session and the argument text, and yields turn events.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from magray_tui.agent.intent import store_user_fact
from magray_tui.agent.model import (
    ChatError,
    ChatMessage,
    ChatSession,
    Notice,
    PlanProposed,
    SessionChanged,
    ToolFinished,
    ToolStarted,
    TurnEvent,
)

if TYPE_CHECKING:
    from magray_tui.agent.ports import SlashHost
    from magray_tui.tools.base import Confirm

Handler = Callable[["SlashHost", ChatSession, str, "Confirm"], Iterator[TurnEvent]]


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str
    help: str
    handler: Handler


COMMANDS: dict[str, SlashCommand] = {}


def command(name: str, usage: str, help: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = SlashCommand(name, usage, help, fn)
        return fn

    return register


def is_command(text: str) -> bool:
    """`/word ...` is a command; `//text` sends `/text` as a message."""
    stripped = text.lstrip()
    return stripped.startswith("/") and not stripped.startswith("//") and len(stripped) > 1


def parse(text: str) -> tuple[str, str]:
    stripped = text.strip()[1:]
    name, _, rest = stripped.partition(" ")
    return name.lower(), rest.strip()


def dispatch(
    agent: SlashHost, session: ChatSession, text: str, confirm: Confirm
) -> Iterator[TurnEvent]:
    name, args = parse(text)
    cmd = COMMANDS.get(name)
    if cmd is None:
        close = [c for c in COMMANDS if c.startswith(name[:2])]
        hint = f" — did you mean /{close[0]}?" if close else ""
        yield Notice(f"unknown command /{name}{hint} (type /help for the list)", level="error")
        return
    yield from cmd.handler(agent, session, args, confirm)


def run_and_keep(
    agent: SlashHost, session: ChatSession, text: str, confirm: Confirm
) -> Iterator[TurnEvent]:
    """`dispatch`, keeping the command and what it showed in the session's transcript so a
    resumed session shows them: the command (role `command`), its notices (role `notice`,
    the level in `status`, `usage.markdown`) and tool output (role `tool`, the tool's name
    in `model`, its arguments and outcome in `usage`). None of them reaches the model: the
    prompt replays user and assistant messages only."""
    from magray_tui.user_errors import user_message

    keep = agent.sessions.add_message
    keep(session.id, "command", text.strip())
    target = session.id  # /clear goes on in the new session
    started: ToolStarted | None = None
    try:
        for event in dispatch(agent, session, text, confirm):
            if isinstance(event, SessionChanged):
                target = event.session.id
            elif isinstance(event, Notice):
                usage = {"markdown": event.markdown}
                keep(target, "notice", event.text, status=event.level, usage=usage)
            elif isinstance(event, ToolStarted):
                started = event
            elif isinstance(event, ToolFinished):
                args = started.arguments if started is not None else ""
                usage = {"arguments": args, "ok": event.ok, "summary": event.summary}
                keep(target, "tool", event.output, model=event.name, usage=usage)
            yield event
    except Exception as exc:
        message = user_message(exc)
        if message is not None:  # the turn shows it; the transcript keeps it
            keep(target, "notice", message, status="error")
        raise


def kept_output(msg: ChatMessage) -> bool:
    """A slash command, or what one showed (a model's tool call has an id; these do not)."""
    return msg.role in ("command", "notice") or (msg.role == "tool" and msg.tool_call_id is None)


def _need(args: str, usage: str) -> str:
    if not args:
        raise ChatError(f"usage: {usage}")
    return args


# ---- memory -------------------------------------------------------------------------------
@command("help", "/help", "list the slash commands")
def _help(
    agent: SlashHost, session: ChatSession, args: str, confirm: Confirm
) -> Iterator[TurnEvent]:
    rows = [f"| `{c.usage}` | {c.help} |" for c in COMMANDS.values()]
    table = "\n".join(["| command | does |", "|---|---|", *rows])
    yield Notice(table + "\n\nStart a message with `//` to send a literal `/`.", markdown=True)


@command("remember", "/remember TEXT", "store a fact in Insights (long-term memory)")
def _remember(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    text = _need(args, "/remember TEXT")
    rid = store_user_fact(agent, session, text)
    yield Notice(f"remembered in Insights as {rid}")


@command("search", "/search QUERY", "search memory (all layers)")
def _search(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    query = _need(args, "/search QUERY")
    hits = agent.memory().search(query, k=10, reader_session=session.id)
    if not hits:
        yield Notice(f"no memories match {query!r}")
        return
    lines = [f"Memories matching “{query}”:", ""]
    for hit in hits:
        rec = hit.record
        snippet = " ".join(rec.text.split())[:160]
        # Who wrote it: the model's unconfirmed guesses are found, and named as such.
        by = f"{rec.author}, unconfirmed" if rec.needs_confirmation else rec.author
        by = _md_literal(by)
        lines.append(
            f"- `{rec.id}` **{rec.layer}** {hit.score:.3f} ({by}) — {_md_literal(snippet)}"
        )
    yield Notice("\n".join(lines), markdown=True)


@command("promote", "/promote ID [LAYER]", "move a memory up a layer (or to LAYER)")
def _promote(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    parts = _need(args, "/promote ID [LAYER]").split()
    rec = agent.memory().promote(parts[0], parts[1] if len(parts) > 1 else None)
    yield Notice(f"{rec.id} is now in {rec.layer}")


@command("forget", "/forget ID", "forget a memory (restorable from the memory browser)")
def _forget(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    rec = agent.memory().forget(_need(args, "/forget ID").split()[0], reason="chat /forget")
    yield Notice(f"forgot {rec.id} (restore it from the memory browser's tombstones)")


# ---- tasks --------------------------------------------------------------------------------
@command("task", "/task TITLE", "add a task to the task DAG")
def _task(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    task = agent.todo().create(_need(args, "/task TITLE"))
    yield Notice(f"added task {task.id}: {task.title} ({task.state})")


@command("plan", "/plan GOAL", "let the model break GOAL into tasks (you accept or reject)")
def _plan(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    goal = _need(args, "/plan GOAL")
    yield Notice(f"planning “{goal}” with {agent.model_label()}…")
    plan, preview = agent.plan(goal, session)
    yield PlanProposed(goal, plan, preview)


# ---- workspace (through the tool registry and its policy) ---------------------------------
def _tool(agent: SlashHost, name: str, arguments: dict, confirm: Confirm) -> Iterator[TurnEvent]:
    yield ToolStarted(name, str(arguments))
    result = agent.tools().run(name, arguments, confirm)
    yield ToolFinished(name, result.ok, result.summary, result.output)


@command("read", "/read PATH", "show a file from the workspace")
def _read(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    yield from _tool(agent, "read_file", {"path": _need(args, "/read PATH")}, confirm)


@command("list", "/list [PATH]", "list a workspace folder")
def _list(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    yield from _tool(agent, "list_directory", {"path": args or "."}, confirm)


@command("run", "/run COMMAND", "run a command (no shell; needs [tools] shell = true)")
def _run(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    command_line = _need(args, "/run COMMAND")
    try:
        shlex.split(command_line)
    except ValueError as exc:
        raise ChatError(f"cannot parse the command: {exc}") from None
    yield from _tool(agent, "shell", {"command": command_line}, confirm)


# ---- the session --------------------------------------------------------------------------
@command("model", "/model [NAME]", "show or switch the model for this session")
def _model(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    if not args:
        yield Notice(f"model: {agent.model_label()}")
        return
    info = agent.switch_model(session, args.strip())
    yield Notice(f"model for this session: {info.label}")


@command("system", "/system [TEXT]", "set this session's system prompt (empty: default)")
def _system(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    agent.sessions.set_system_prompt(session.id, args or None)
    yield Notice("system prompt set" if args else "system prompt back to the default")


@command("export", "/export [PATH]", "write this session as Markdown (default: the data dir)")
def _export(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    target = Path(args).expanduser() if args else agent.export_dir()
    if not args:
        target.mkdir(parents=True, exist_ok=True)
    path = agent.sessions.export_markdown(session.id, target)
    yield Notice(f"exported to {path}")


@command("rename", "/rename NAME", "rename this session")
def _rename(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    renamed = agent.sessions.rename(session.id, _need(args, "/rename NAME"))
    yield SessionChanged(renamed)
    yield Notice(f"session renamed to {renamed.name}")


@command("clear", "/clear", "start a new session (this one stays in the sessions list)")
def _clear(agent: SlashHost, session: ChatSession, args: str, confirm: Confirm):
    new = agent.sessions.create(args or None)
    yield SessionChanged(new)
    yield Notice(f"new session {new.name}")


def _md_literal(text: str) -> str:
    """Escape Markdown so memory text shows as typed."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]()#+-.!|<>":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
