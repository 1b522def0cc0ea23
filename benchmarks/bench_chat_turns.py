"""Does chat get slower every turn? A scripted 20-turn conversation through the agent.

Real agent turns over real HTTP (litellm → the local OpenAI-compatible test server in
tests/llm_server.py) on a home holding 24 facts and distractors plus 300 sentences of
"ingested" text. Every turn stores its messages in Interact, as in use. Per turn: the
prompt's tokens (system + history + message, estimated at 4 characters a token, tool specs
excluded: they are constant and the offline model gets none), memories sent, and the time
from the turn's start to the first streamed token.

Three runs in one process, same script:
- `before`: grounding as it was (no relevance floor, the session's own turns and the
  model's replies fed back as memories, no de-duplication), hosted budgets;
- `hosted`: grounding now, the configured budgets of a hosted model;
- `offline budgets`: grounding now, the budgets the offline model gets.
Target (issue 16): turn 20's prompt ≤ 1.5× turn 3's, first token flat within noise.

    .venv/bin/python benchmarks/bench_chat_turns.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibrate_grounding_floor import DISTRACTORS
from common import bench_settings, docstring_sentences, print_table, temp_home, write_result

from tests.conftest import FACTS

SCRIPT = [
    ("Hi! I'm setting up the staging environment today.", "Great, how can I help?"),
    ("Where does the deploy script live?", "It lives in tools/deploy.sh; it needs the token."),
    ("Which database did we settle on for storage?", "The team chose DuckDB as the source."),
    ("Remind me of the minimum Python version.", "Python 3.11 is the minimum supported."),
    ("OK. What parameters does the HNSW index use?", "M=16 and ef_construction=200."),
    ("When does the backup run?", "Nightly at 2am, to an external disk."),
    ("Could you summarise the deploy steps so far?", "Run tools/deploy.sh with the token."),
    ("Does the deploy need anything else?", "Only the staging token, as far as I know."),
    ("thanks", "You're welcome."),
    ("What editor settings do I like?", "Dark themes and vim keybindings."),
    ("Let's plan the migration. Any risks?", "Backups at 2am could overlap the migration."),
    ("Good point. Move the backup?", "You could move it to 4am for that night."),
    ("And the index parameters, keep them?", "Keep M=16 and ef_construction=200."),
    ("What about Python 3.12?", "It is above the 3.11 minimum, so it is fine."),
    ("Write a short checklist.", "1. Token 2. deploy.sh 3. Move backup 4. Verify."),
    ("Who is training for a marathon?", "Jon, in Chicago this October."),
    ("Back to work: where is the script again?", "tools/deploy.sh."),
    ("Is DuckDB still the source of truth?", "Yes, DuckDB is the single source of truth."),
    ("Great, anything I forgot?", "Check the staging token before running it."),
    ("That's all, thanks!", "Good luck with the deploy."),
]


# Small models ramble: each scripted reply carries about 60 tokens more of it, as SmolLM2
# replies did in the session.
RAMBLE = (
    " I hope this helps. If you have any other questions about the staging environment, the"
    " deploy script, the database or the backups, feel free to ask me and I will do my best"
    " to explain every step in more detail, one at a time, so nothing gets missed."
)


def _tokens(messages: list[dict[str, Any]]) -> int:
    from magray_tui.agent.prompt import estimate_tokens

    return sum(estimate_tokens(str(m.get("content") or "")) for m in messages)


def _run(label: str, offline_budgets: bool, before: bool) -> list[dict[str, Any]]:
    from magray_tui.agent import grounding
    from magray_tui.agent import model as m
    from magray_tui.services import Services
    from tests.llm_server import LLMServer

    rows = []
    with temp_home(f"magray-bench-chat-{label.split()[0]}-") as home, LLMServer() as server:
        settings = bench_settings(home)
        settings.llm.model = "openai/test-model"
        settings.llm.api_base = server.url
        settings.llm.offline_model = False
        settings.agent.distil = False
        if offline_budgets:
            for key, value in grounding.OFFLINE_LIMITS.items():
                setattr(settings.agent, key, value)
        services = Services(settings)
        saved = grounding.grounding_hits
        if before:  # every hit, as the agent did before
            grounding.grounding_hits = lambda hits, window: list(hits)  # type: ignore[assignment]
        try:
            memory = services.memory
            memory.add_many([{"text": t, "layer": "insights"} for t in [*FACTS, *DISTRACTORS]])
            memory.add_many(
                [{"text": t, "layer": "assets", "kind": "file"} for t in docstring_sentences(300)]
            )
            agent = services.new_agent()
            warm = agent.sessions.create("warm")
            server.text("ok")
            list(agent.run_turn(warm.id, "warm up"))
            session = agent.sessions.create("bench")
            for n, (text, reply) in enumerate(SCRIPT, 1):
                server.text(*(reply + RAMBLE).split(" "))
                started = time.perf_counter()
                first = None
                used = 0
                for event in agent.run_turn(session.id, text):
                    if isinstance(event, m.MemoriesUsed):
                        used = len(event.memories)
                    elif isinstance(event, m.ReplyDelta) and first is None:
                        first = (time.perf_counter() - started) * 1000
                sent = server.chat_requests[-1].body["messages"]
                rows.append(
                    {
                        "turn": n,
                        "prompt_tokens": _tokens(sent),
                        "history_messages": len(sent) - 2,
                        "memories": used,
                        "first_token_ms": round(first or 0.0, 1),
                    }
                )
        finally:
            grounding.grounding_hits = saved
            services.close()
    return rows


def main() -> None:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-key")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    runs = {
        "before": _run("before", offline_budgets=False, before=True),
        "hosted": _run("hosted", offline_budgets=False, before=False),
        "offline budgets": _run("offline budgets", offline_budgets=True, before=False),
    }
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    summary = {}
    for label, rows in runs.items():
        t3, t20 = rows[2]["prompt_tokens"], rows[19]["prompt_tokens"]
        firsts = [r["first_token_ms"] for r in rows]
        summary[label] = {
            "turn3_prompt_tokens": t3,
            "turn20_prompt_tokens": t20,
            "ratio_20_to_3": round(t20 / t3, 2),
            "memories_total": sum(r["memories"] for r in rows),
            "first_token_ms_turns_1_5": round(sorted(firsts[:5])[2], 1),
            "first_token_ms_turns_16_20": round(sorted(firsts[15:])[2], 1),
        }
    table = [
        [
            r["turn"],
            *(runs[k][i]["prompt_tokens"] for k in runs),
            *(runs[k][i]["memories"] for k in runs),
            *(runs[k][i]["first_token_ms"] for k in runs),
        ]
        for i, r in enumerate(runs["before"])
    ]
    headers = ["turn"] + [f"tokens {k}" for k in runs] + [f"mem {k}" for k in runs]
    headers += [f"1st ms {k}" for k in runs]
    print_table("prompt tokens, memories and first token per turn", headers, table, 1)
    for label, s in summary.items():
        print(
            f"{label:16} turn 3 {s['turn3_prompt_tokens']:5} → turn 20 "
            f"{s['turn20_prompt_tokens']:5} ({s['ratio_20_to_3']}×), memories sent "
            f"{s['memories_total']}, first token median turns 1-5 "
            f"{s['first_token_ms_turns_1_5']} ms, 16-20 {s['first_token_ms_turns_16_20']} ms"
        )
    print(f"load average before/after: {load_before} / {load_after}")
    data = {"runs": runs, "summary": summary, "load_before": load_before, "load_after": load_after}
    data["target"] = "turn 20 prompt <= 1.5x turn 3 (offline budgets)"
    data["pass"] = summary["offline budgets"]["ratio_20_to_3"] <= 1.5
    print(write_result("chat_turns", data))


if __name__ == "__main__":
    main()
