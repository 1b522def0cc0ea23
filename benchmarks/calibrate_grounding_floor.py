"""Calibrating the relevance floor of chat grounding on the search's score parts.

A small labelled set: 24 memories (12 facts of the test suite, 12 near-topic distractors)
and 36 messages: 24 questions that each have exactly one relevant memory (paraphrased, not
copied) and 12 that have none (greetings, small talk, unrelated asks). Every message is
searched like a chat turn (hybrid, k=8, packaged MiniLM) and each hit is labelled relevant
or not. For each candidate floor on the vector cosine (`parts["vector"]`), with or without
keeping keyword-only hits, it reports the recall of the relevant memory and how many
irrelevant memories per message would still be sent.

    .venv/bin/python benchmarks/calibrate_grounding_floor.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import bench_settings, print_table, temp_home, write_result

from tests.conftest import FACTS

DISTRACTORS = [
    "Caroline's sister moved to Denver in the spring.",
    "Melanie bought new brushes at the art store downtown.",
    "The staging server was rebooted twice last week.",
    "We compared SQLite and PostgreSQL before the migration.",
    "The office has a light theme on the shared monitors.",
    "Node 20 is used by the frontend build.",
    "The dog sleeps on the sofa in the living room.",
    "Marketing spent more on ads this quarter.",
    "The balcony has basil and mint growing in pots.",
    "Vector search recall is measured on LoCoMo.",
    "Jon likes cycling along the lake on weekends.",
    "Log files are rotated every Sunday.",
]
# (message, index into FACTS of the one relevant memory)
QUESTIONS = [
    ("Where did Caroline go on Tuesday night?", 0),
    ("Did Caroline attend a support meeting?", 0),
    ("What did Melanie paint?", 1),
    ("Which landscape did Melanie make a picture of last summer?", 1),
    ("How do I deploy to staging?", 2),
    ("Where is the deployment script?", 2),
    ("Which database is our source of truth?", 3),
    ("What storage engine did the team pick?", 3),
    ("Which editor keybindings do I like?", 4),
    ("Do I prefer light or dark colour schemes?", 4),
    ("What is the oldest Python version we support?", 5),
    ("Can the project run on Python 3.9?", 5),
    ("What happened to the coffee mug?", 6),
    ("Did the cat break anything in the kitchen?", 6),
    ("How much did revenue grow this quarter?", 7),
    ("What was the quarterly revenue change?", 7),
    ("How often should the tomatoes be watered?", 8),
    ("What do I need to do for the plants in July?", 8),
    ("What are the HNSW parameters?", 9),
    ("What ef_construction does the index use?", 9),
    ("What race is Jon preparing for?", 10),
    ("Where is Jon running a marathon?", 10),
    ("When does the database backup run?", 11),
    ("Where do the nightly backups go?", 11),
]
UNRELATED = [
    "hello",
    "Hi there, how are you today?",
    "thanks!",
    "Tell me a joke.",
    "What is 17 times 23?",
    "Translate 'good morning' into French.",
    "Write a haiku about autumn.",
    "What's the capital of Australia?",
    "ok",
    "Explain recursion in one sentence.",
    "Can you summarise what we just discussed?",
    "What time zone is Tokyo in?",
]
FLOORS = [0.0, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]


def main() -> None:
    from magray_tui.ai import load_embedder
    from magray_tui.memory import MemoryService

    rows: list[dict[str, Any]] = []
    with temp_home() as home:
        settings = bench_settings(home)
        embedder = load_embedder(settings)
        with MemoryService.open(settings=settings, embedder=embedder) as memory:
            ids = memory.add_many([{"text": t, "layer": "insights"} for t in FACTS])
            memory.add_many([{"text": t, "layer": "insights"} for t in DISTRACTORS])
            relevant_id = {i: rid for i, rid in enumerate(ids)}
            for text, want in [*QUESTIONS, *((t, None) for t in UNRELATED)]:
                for hit in memory.search(text, k=8, count_access=False):
                    rows.append(
                        {
                            "message": text,
                            "answerable": want is not None,
                            "relevant": want is not None and hit.record.id == relevant_id[want],
                            "vector": hit.parts.get("vector"),
                            "keyword_rank": hit.parts.get("keyword_rank"),
                        }
                    )
    table = []
    results = []
    messages = len(QUESTIONS) + len(UNRELATED)
    for keyword_only in (False, True):
        for floor in FLOORS:

            def kept(r: dict[str, Any], f: float = floor, kw: bool = keyword_only) -> bool:
                if r["vector"] is None:
                    return kw and r["keyword_rank"] == 1
                return r["vector"] >= f

            recall = sum(r["relevant"] and kept(r) for r in rows) / len(QUESTIONS)
            noise = sum((not r["relevant"]) and kept(r) for r in rows) / messages
            noise_unrelated = sum((not r["answerable"]) and kept(r) for r in rows) / len(UNRELATED)
            results.append(
                {
                    "floor": floor,
                    "keyword_only_rank1": keyword_only,
                    "recall": round(recall, 3),
                    "irrelevant_per_message": round(noise, 2),
                    "sent_per_unrelated_message": round(noise_unrelated, 2),
                }
            )
            table.append(
                [
                    f"{floor:.2f}",
                    "yes" if keyword_only else "no",
                    f"{recall:.0%}",
                    f"{noise:.2f}",
                    f"{noise_unrelated:.2f}",
                ]
            )
    found = [r["vector"] for r in rows if r["relevant"] and r["vector"] is not None]
    print_table(
        "grounding floor on the vector cosine",
        ["floor", "kw-only rank 1", "recall", "irrelevant/msg", "sent/unrelated msg"],
        table,
        2,
    )
    print(f"relevant memories found: {len(found)} of {len(QUESTIONS)}; min cosine {min(found):.3f}")
    summary = {"relevant_found": len(found), "relevant_min_cosine": round(min(found), 3)}
    print(
        write_result("grounding_floor", {"results": results, **summary, "hits_scored": len(rows)})
    )


if __name__ == "__main__":
    main()
