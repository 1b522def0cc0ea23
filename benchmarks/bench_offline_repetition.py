"""Repetition in the offline model's replies (issue 15: "repeats a paragraph 3x"): the
settings before (repeat_penalty 1.1 over llama.cpp's default 64-token window) against the
shipped ones (window = a whole reply, plus frequency/presence penalties), six prompts,
greedy decoding, in the same run. Measures the share of distinct word 4-grams (1.0 = no
phrase said twice) and sentences said again (20+ characters).

    .venv/bin/python benchmarks/bench_offline_repetition.py
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import llama_cpp
from common import write_result

from magray_tui.llm import offline

PROMPTS = [
    "Tell me a story about a cat who lives in Paris.",
    "Explain how a database index works, in detail.",
    "Write a long paragraph about the history of the French Revolution.",
    "What should I pack for a week-long hiking trip? Give a detailed answer.",
    "Describe your favourite city and why you like it.",
    "Write a poem about the sea.",
]


def rep_stats(text):
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
    distinct = len(set(grams)) / max(1, len(grams))
    sents = [s.strip().lower() for s in re.split(r"[.!?\n]+", text) if len(s.strip()) > 20]
    repeated = len(sents) - len(set(sents))
    return distinct, repeated, len(words)


path = str(offline.gguf_path())
out = {}
for name, last_n, extra in (
    ("old", 64, {}),
    (
        "new",
        offline.PENALTY_LAST_N,
        {
            "frequency_penalty": offline.FREQUENCY_PENALTY,
            "presence_penalty": offline.PRESENCE_PENALTY,
        },
    ),
):
    llm = llama_cpp.Llama(
        model_path=path, n_ctx=2048, n_threads=1, last_n_tokens_size=last_n, verbose=False
    )
    rows = []
    for p in PROMPTS:
        t = time.time()
        r = llm.create_chat_completion(
            messages=[{"role": "user", "content": p}],
            max_tokens=384,
            temperature=0.0,
            repeat_penalty=1.1,
            **extra,
        )
        text = r["choices"][0]["message"]["content"]
        d, rep, n = rep_stats(text)
        rows.append(
            {
                "prompt": p,
                "distinct_4gram": round(d, 3),
                "repeated_sentences": rep,
                "words": n,
                "s": round(time.time() - t, 1),
            }
        )
    out[name] = rows
    del llm
summary = {
    k: {
        "mean_distinct_4gram": round(sum(r["distinct_4gram"] for r in v) / len(v), 3),
        "repeated_sentences": sum(r["repeated_sentences"] for r in v),
    }
    for k, v in out.items()
}
data = {"summary": summary, "rows": out, "loadavg": Path("/proc/loadavg").read_text().split()[:3]}
print(json.dumps(summary, indent=1))
print("wrote", write_result("offline_repetition", data))
