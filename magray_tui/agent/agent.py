"""One agent turn: route -> retrieve -> prompt -> stream -> tools -> remember.

`Agent.run_turn` is a generator of turn events (agent/model.py) run in a worker thread by
the TUI and by `magray chat`; both render the same events. Nothing here blocks on a UI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magray_tui.agent import grounding, intent, prompt, slash
from magray_tui.agent.model import (
    ChatError,
    ChatMessage,
    ChatSession,
    MemoriesUsed,
    MemoryRef,
    Notice,
    ToolFinished,
    ToolStarted,
    TurnDone,
    TurnEvent,
    TurnStarted,
)
from magray_tui.agent.sessions import ChatSessions
from magray_tui.agent.turn import StreamedReply, stream_reply
from magray_tui.monitor.metrics import metrics
from magray_tui.user_errors import user_message

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import ModelInfo
    from magray_tui.memory import MemoryService, Record
    from magray_tui.todo.service import TodoService
    from magray_tui.tools.base import Confirm
    from magray_tui.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 6
MAX_MESSAGE_CHARS = 200_000  # a longer paste is refused before anything is stored


def deny_all(_confirmation: Any) -> bool:
    """The confirmation of non-interactive use: every `ask` becomes a denial."""
    return False


class Agent:
    """One chat agent. Its collaborators are given, not looked up: the settings, the chat
    sessions, and providers of the memory, the task DAG and the LLM client (called when
    first needed: each is slow to open or import). `Services.new_agent()` wires one to a
    process's services; slash commands and distillation see it through `agent.ports`."""

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: ChatSessions,
        memory: Callable[[], MemoryService],
        todo: Callable[[], TodoService],
        llm: Callable[[], LLMClient],
        tools: ToolRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self._memory = memory
        self._todo = todo
        self._new_llm = llm
        self._llm: LLMClient | None = None
        self._tools = tools
        self._distillers: list[threading.Thread] = []

    # ---- collaborators -------------------------------------------------------------------
    def llm(self) -> LLMClient:
        if self._llm is None:
            self._llm = self._new_llm()
        return self._llm

    def memory(self) -> MemoryService:
        return self._memory()

    def todo(self) -> TodoService:
        return self._todo()

    def tools(self) -> ToolRegistry:
        if self._tools is None:
            from magray_tui.tools.registry import ToolRegistry

            self._tools = ToolRegistry.default(self.settings, memory=self._memory, todo=self._todo)
        return self._tools

    def model_info(self) -> ModelInfo:
        llm = self.llm()
        return llm.active or llm.resolve()

    def model_label(self) -> str:
        return self.model_info().label

    def switch_model(self, session: ChatSession, model: str) -> ModelInfo:
        info = self.llm().set_model(model)
        self.sessions.set_model(session.id, info.model)
        return info

    def export_dir(self) -> Path:
        return self.settings.paths.data / "exports"

    # ---- a turn --------------------------------------------------------------------------
    def run_turn(
        self,
        session_id: str,
        text: str,
        *,
        confirm: Confirm = deny_all,
        cancel: threading.Event | None = None,
    ) -> Iterator[TurnEvent]:
        """Everything one message causes, as events; never raises for user-facing errors."""
        cancel = cancel or threading.Event()
        try:
            session = self.sessions.get(session_id)
            if len(text) > MAX_MESSAGE_CHARS:
                raise ChatError(
                    f"that message is {len(text):,} characters; the limit is "
                    f"{MAX_MESSAGE_CHARS:,} — attach large files with /read or ingest them"
                )
            if not text.strip():
                return
            if slash.is_command(text):
                yield from slash.run_and_keep(self, session, text, confirm)
                yield TurnDone("command", None)
                return
            if text.lstrip().startswith("//"):
                text = text.lstrip()[1:]
            elif (fact := intent.explicit_fact(text)) is not None:
                yield from intent.remember_fact(self, session, text, fact)
                return
            user = self.sessions.add_message(session.id, "user", text)
            yield from self._reply(session, user.content, user, confirm, cancel)
        except Exception as exc:
            message = user_message(exc)
            if message is None:
                log.exception("chat turn failed")
                message = f"unexpected error ({type(exc).__name__}); details in the log file"
            yield Notice(message, level="error")
            yield TurnDone("error", None, error=message)

    def regenerate(
        self,
        session_id: str,
        *,
        confirm: Confirm = deny_all,
        cancel: threading.Event | None = None,
    ) -> Iterator[TurnEvent]:
        """Drop the last reply and answer the last user message again."""
        try:
            session = self.sessions.get(session_id)
            messages = self.sessions.messages(session.id)
            last_user = next((m for m in reversed(messages) if m.role == "user"), None)
            if last_user is None:
                raise ChatError("nothing to regenerate: no message yet in this session")
            # The last reply goes; commands typed after it and their output stay.
            later = [m.id for m in messages if m.id > last_user.id and not slash.kept_output(m)]
            self.sessions.delete_messages(later)
            yield from self._reply(
                session, last_user.content, None, confirm, cancel or threading.Event()
            )
        except Exception as exc:
            message = user_message(exc) or f"unexpected error ({type(exc).__name__})"
            if user_message(exc) is None:
                log.exception("regenerate failed")
            yield Notice(message, level="error")
            yield TurnDone("error", None, error=message)

    def _reply(self, session, text, user_msg, confirm, cancel) -> Iterator[TurnEvent]:
        llm = self.llm()
        if session.model and (llm.active is None or llm.active.model != session.model):
            try:
                llm.set_model(session.model)
            except Exception as exc:  # an unusable saved model must not block the chat
                yield Notice(f"cannot use {session.model}: {exc}", level="warning")
        info = llm.active or llm.resolve()
        yield TurnStarted(user_msg, info.label)

        started = time.perf_counter()
        budgets = grounding.budgets_for(self.settings.agent, info.offline)
        stored = self.sessions.messages(session.id)
        # The history is what came before the message answered (a regenerate answers the
        # last user message again: it is the prompt, not history too).
        anchor = (
            user_msg.id
            if user_msg
            else max((m.id for m in stored if m.role == "user"), default=None)
        )
        history = [m for m in stored if anchor is None or m.id < anchor]
        window = prompt.history_window(history, budgets.history_tokens, self._count)
        refs, mem_tokens = self._retrieve(session, text, window, budgets)
        if refs is None:
            yield Notice("memory is unavailable for this turn (see the log)", level="warning")
            refs = []
        specs = [s.openai_schema() for s in self.tools().specs()] if info.supports_tools else []
        for note in self.tools().notices() if specs else ():  # e.g. an MCP server that failed
            yield Notice(note, level="warning")
        messages = prompt.build_messages(
            session_prompt=session.system_prompt,
            memories=refs,
            history=history,
            user_text=text,
            history_budget=budgets.history_tokens,
            count=self._count,
            with_tools=bool(specs),
            offline=info.offline,
        )
        prep_ms = (time.perf_counter() - started) * 1000
        metrics.observe("agent.prepare", prep_ms / 1000)
        yield MemoriesUsed(tuple(refs), mem_tokens, prep_ms)

        reply = StreamedReply()
        for _round in range(MAX_TOOL_ROUNDS):
            calls = yield from stream_reply(llm, messages, specs or None, cancel, reply)
            if not calls or reply.status != "complete":
                break
            messages.append(
                {
                    "role": "assistant",
                    "content": reply.round_text or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in calls
                    ],
                }
            )
            for call in calls:
                yield ToolStarted(call.name, call.arguments)
                result = self.tools().run(call.name, call.arguments, confirm)
                yield ToolFinished(call.name, result.ok, result.summary, result.output)
                reply.tool_log.append(
                    {
                        "name": call.name,
                        "arguments": call.arguments,
                        "ok": result.ok,
                        "summary": result.summary,
                    }
                )
                # Delimited and declared untrusted (prompt.py); the session keeps it raw.
                content = prompt.tool_block(call.name, result.output)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
                self.sessions.add_message(session.id, "tool", result.output, tool_call_id=call.id)
            reply.round_text = ""
        else:
            yield Notice(f"stopped after {MAX_TOOL_ROUNDS} rounds of tool calls", level="warning")

        stored = self.sessions.add_message(
            session.id,
            "assistant",
            reply.text,
            status=reply.status,
            model=info.model,
            usage=reply.usage,
            memories=[r.to_dict() for r in refs],
            tool_calls=reply.tool_log,
        )
        if reply.status in ("complete", "cancelled"):
            self._remember(session, user_msg, stored)
        if reply.status == "complete" and user_msg is not None:
            self._distil_later(session, text, info)
        yield TurnDone(reply.status, stored, reply.usage, reply.error)

    # ---- retrieve / remember -------------------------------------------------------------
    def _count(self, text: str) -> int:
        return prompt.estimate_tokens(text)

    def _retrieve(
        self,
        session: ChatSession,
        text: str,
        window: list[ChatMessage],
        budgets: grounding.Budgets,
    ) -> tuple[list[MemoryRef] | None, int]:
        """Memories for this turn: searched, filtered (grounding.py: relevant enough, not
        the model's own replies, not what the history window holds, no repeats), fitted to
        the budget."""
        if budgets.top_k == 0 or budgets.memory_tokens == 0:
            return [], 0
        try:
            hits = self.memory().search(
                text, k=budgets.top_k, count_access=True, reader_session=session.id
            )
        except Exception:
            log.exception("retrieval failed")
            return None, 0
        kept = grounding.grounding_hits(hits, window)
        return prompt.select_memories(prompt.memory_refs(kept), budgets.memory_tokens, self._count)

    def _remember(self, session: ChatSession, user_msg, reply_msg) -> None:
        """User and assistant messages go to Interact, tagged with the session."""
        try:
            memory = self.memory()
            if memory.read_only:
                return
            for msg in (user_msg, reply_msg):
                if msg is None or not msg.content.strip():
                    continue
                rid = memory.add(
                    msg.content,
                    layer="interact",
                    kind="chat",
                    source="chat",
                    author="assistant" if msg.role == "assistant" else "user",
                    session=session.id,
                    metadata={"role": msg.role, "message_id": msg.id, "status": msg.status},
                )
                self.sessions.update_message(msg.id, memory_id=rid)
        except Exception:
            log.exception("storing the turn in memory failed")

    def confirm_reply(self, session_id: str, message_id: int) -> Record:
        """A thumbs-up on a reply: its memory becomes knowledge (grounds later answers, may
        be promoted). ChatError when the reply has no memory to confirm."""
        message = next((m for m in self.sessions.messages(session_id) if m.id == message_id), None)
        if message is None or message.role != "assistant":
            raise ChatError("that reply is no longer in this session")
        if not message.memory_id:
            raise ChatError(
                "this reply was not stored in memory (a failed reply, a rule's answer or a "
                "read-only store): nothing to keep"
            )
        return self.memory().confirm(message.memory_id, how="thumbs-up")

    def confirmed_replies(self, messages: list[ChatMessage]) -> frozenset[int]:
        """The ids of the replies among `messages` whose memory the user confirmed."""
        memory = self.memory()
        out = set()
        for message in messages:
            if message.role != "assistant" or not message.memory_id:
                continue
            try:
                if memory.get(message.memory_id, count_access=False).confirmed:
                    out.add(message.id)
            except Exception:  # a purged memory, a closing store: just not marked
                log.debug("no memory %s for message %s", message.memory_id, message.id)
        return frozenset(out)

    def _distil_later(self, session: ChatSession, text: str, info: ModelInfo) -> None:
        if not self.settings.agent.distil or info.offline:
            return  # the small offline model cannot be trusted to extract facts; /remember can
        if self.llm().missing_key(info) is not None:
            return  # the reply came from a fallback: the model itself cannot be called
        from magray_tui.agent.distil import distil_facts

        thread = threading.Thread(
            target=distil_facts,
            args=(self, session, text),
            name="magray-distil",
            daemon=True,
        )
        self._distillers = [t for t in self._distillers if t.is_alive()] + [thread]
        thread.start()

    def plan(self, goal: str, session: ChatSession):
        """`/plan`: a validated plan and its preview (nothing applied)."""
        from magray_tui.todo.planner import plan_goal

        try:
            hits = self.memory().search(goal, k=5, reader_session=session.id)
            memories = [h.record.text for h in hits]
        except Exception:
            log.exception("memories for planning unavailable")
            memories = []

        def complete(messages: list[dict], response_format: dict | None) -> str:
            return self.llm().complete(messages, response_format=response_format)

        plan = plan_goal(goal, complete, memories=memories)
        return plan, plan.preview()

    def apply_plan(self, plan) -> list:
        return self.todo().apply_plan(plan)

    def wait_background(self, timeout: float = 30.0) -> None:
        """Let background distillation finish (tests, CLI exit)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._distillers):
            thread.join(max(0.0, deadline - time.monotonic()))
