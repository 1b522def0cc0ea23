"""`magray ingest magray_tui/memory` with the default model vs the packaged one, same run.

Each configuration ingests the folder into a fresh home through the real CLI (a
subprocess), so start-up, chunking, embedding and the store are all counted:
- `default`: the settings as shipped;
- `default model, 1 thread`: MAGRAY_EMBEDDING__INTRA_OP_THREADS=1 (the model's share alone);
- `packaged, 1 thread`: MAGRAY_EMBEDDING__MODEL=all-minilm-l6-v2-int8
  MAGRAY_EMBEDDING__INTRA_OP_THREADS=1 (the model and threads before the change).

    .venv/bin/python benchmarks/bench_embed_ingest.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_table, write_result

NAME = "bench_embed_ingest"
ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "magray_tui" / "memory"
CONFIGS = {
    "default": {},
    "default model, 1 thread": {"MAGRAY_EMBEDDING__INTRA_OP_THREADS": "1"},
    "packaged, 1 thread": {
        "MAGRAY_EMBEDDING__MODEL": "all-minilm-l6-v2-int8",
        "MAGRAY_EMBEDDING__INTRA_OP_THREADS": "1",
    },
}


def ingest(extra: dict[str, str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGRAY_EMBEDDING__")}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory(prefix="magray-bench-ingest-") as home:
        load = os.getloadavg()
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "magray_tui.cli", "--home", home, "ingest", str(FOLDER)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - t0
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    chunks = re.search(r"chunks: \+(\d+)", last)
    return {
        "returncode": proc.returncode,
        "wall_s": round(wall, 2),
        "chunks": int(chunks.group(1)) if chunks else None,
        "load_average_before": load,
        "summary": last,
    }


def main() -> None:
    results = {name: ingest(extra) for name, extra in CONFIGS.items()}
    base = results["packaged, 1 thread"]["wall_s"]
    for r in results.values():
        r["speedup_vs_packaged_1_thread"] = round(base / r["wall_s"], 2)  # type: ignore[operator]
    print_table(
        f"magray ingest {FOLDER.relative_to(ROOT)}",
        ["configuration", "wall s", "chunks", "× packaged 1 thread", "load before"],
        [
            [
                k,
                r["wall_s"],
                r["chunks"],
                r["speedup_vs_packaged_1_thread"],
                r["load_average_before"][0],
            ]  # type: ignore[index]
            for k, r in results.items()
        ],
    )
    write_result(
        NAME, {"folder": str(FOLDER.relative_to(ROOT)), "cores": os.cpu_count(), "results": results}
    )


if __name__ == "__main__":
    main()
