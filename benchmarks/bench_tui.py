"""The TUI's speed, as a user feels it.

(a) first frame: the real `magray` command in a pseudo-terminal (120x36) on a seeded
    MAGRAY_HOME; the app logs "first frame … s after process start" once its first frame
    is out. Median of 5 runs (target <= 1.0 s), alternating with a bare Textual app (a
    header, a static, a footer) measured the same way: the ratio is held to <= 1.3.
(b) input latency while a 2,000-chunk ingest runs in the app (the same worker as "Add
    folder"), with and without one competing busy process (`python -c 'while True:
    pass'`, a normal desktop's background load): cursor moves in the results, typing in
    the search box, search-as-you-type (last key to the frame with that query's results)
    and pane switches, each timed from the key to the first frame that shows its effect
    (Pilot, headless: frames are still composed, only not written). p95 target <= 100 ms.
    Measured while the ingest runs, then cancelled; the chunks it embedded during the
    window are recorded (none: `valid` is false, the keys met an idle app). Each key also
    records the UI thread's CPU time until its frame: what the key costs the UI, which a
    shared machine's load does not move (the latency it does).
(c) search-as-you-type at 100k records: type a query a key at a time, time from the last
    keystroke to the frame that shows its results; reported with and without the
    debounce (target <= 150 ms). The 100k store (vectors built as bench_memory does, no
    embedding of records) is cached in /tmp/magray-bench-tui-100k.

    .venv/bin/python benchmarks/bench_tui.py [--quick] [--only first_frame,input,search]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import REPO, RESULTS_DIR, percentiles, print_table, temp_home, write_result

TARGETS = {
    "first_frame_s": 1.0,
    "first_frame_ratio": 1.3,
    "input_p95_ms": 100.0,
    "search_p95_ms": 150.0,
}
CACHE_100K = Path("/tmp/magray-bench-tui-100k")
FRAME_RE = re.compile(r"first frame ([\d.]+) s after process start \(([\d.]+) s in the TUI\)")
SEARCH_WORDS = ["stag", "deploy", "tea", "memory", "index", "topic"]
QUERIES = [
    "what did caroline paint",
    "deploy script staging token",
    "when is the support group",
    "favourite books of melanie",
    "camping trip with the kids",
    "which database is the source of truth",
    "adoption agency interview",
    "pottery class on saturday",
    "vector index rebuild",
    "running shoes and marathon",
]


def log(msg: str) -> None:
    print(f"[bench_tui] {msg}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- (a) first frame ----------------------------------------------------------------------
def seed_home(home: Path, n: int = 200) -> None:
    """A small real store (so the header and the listing have something to show)."""
    from common import bench_settings

    from magray_tui.memory import MemoryService

    with MemoryService.open(settings=bench_settings(home)) as memory:
        memory.add_many(
            [{"text": f"seed memory number {i} about topic {i % 17}"} for i in range(n)]
        )


# A bare Textual app (a header, a static, a footer) measured the same way: the floor
# that "nothing but textual and our widgets before the first frame" is held against.
BARE_APP = """
import logging, sys, time
t_import = time.perf_counter()
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    BINDINGS = [("ctrl+q", "quit", "Quit")]
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(self.first_frame)
    def first_frame(self):
        import psutil
        since = time.time() - psutil.Process().create_time()
        with open(sys.argv[1], "a") as fh:
            fh.write(f"first frame {since:.3f} s after process start "
                     f"({time.perf_counter() - t_import:.3f} s in the TUI)\\n")

Bare().run()
"""


def magray_command() -> list[str]:
    """The installed `magray` of this checkout's venv, else its module run by this
    interpreter (a worktree without a venv of its own)."""
    script = REPO / ".venv" / "bin" / "magray"
    return [str(script)] if script.exists() else [sys.executable, "-m", "magray_tui.cli"]


def one_first_frame(home: Path, timeout: float = 30.0, bare: bool = False) -> tuple[float, float]:
    log_file = home / "state" / "logs" / ("bare.log" if bare else "magray.log")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    offset = log_file.stat().st_size if log_file.exists() else 0
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    env = {
        **os.environ,
        "MAGRAY_HOME": str(home),
        "TERM": "xterm-256color",
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-c", BARE_APP, str(log_file)] if bare else magray_command()
    proc = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    stop = threading.Event()

    def drain() -> None:  # the app blocks if nobody reads the terminal
        while not stop.is_set():
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    found = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and found is None:
            time.sleep(0.05)
            if log_file.exists():
                with open(log_file, encoding="utf-8", errors="replace") as fh:
                    fh.seek(offset)
                    found = FRAME_RE.search(fh.read())
        time.sleep(1.0)  # let the services open, as a user would, before quitting
        os.write(master, b"\x11")  # ctrl+q
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    finally:
        stop.set()
        os.close(master)
    if found is None:
        raise RuntimeError(f"no first-frame line in {log_file} within {timeout} s")
    return float(found.group(1)), float(found.group(2))


def bench_first_frame(runs: int) -> dict[str, Any]:
    """magray and a bare Textual app, alternating run by run (the machine's load then
    weighs on both alike); the ratio of the medians is the number to hold."""
    with temp_home("magray-bench-tui-") as home:
        seed_home(home)
        one_first_frame(home)  # warm the page cache (the first run after a build is slower)
        one_first_frame(home, bare=True)
        samples, bare = [], []
        for _ in range(runs):
            samples.append(one_first_frame(home))
            bare.append(one_first_frame(home, bare=True))
    since_start = [s for s, _ in samples]
    median = statistics.median(since_start)
    bare_median = statistics.median(s for s, _ in bare)
    return {
        "runs": runs,
        "since_process_start_s": since_start,
        "in_tui_s": [t for _, t in samples],
        "median_s": round(median, 3),
        "median_in_tui_s": round(statistics.median(t for _, t in samples), 3),
        "bare_textual_s": [s for s, _ in bare],
        "bare_textual_median_s": round(bare_median, 3),
        "ratio_to_bare": round(median / bare_median, 2),
        "load_average": load_average(),
    }


# ---- frame timing with Pilot --------------------------------------------------------------
class FrameClock:
    """Wraps `app._display`: the time of the first frame composed after `expect()` for
    which `predicate()` holds, i.e. the frame that shows the key's effect; and the CPU
    time the UI thread spent meanwhile (`cpu`: what the key cost the UI, a measure that
    a shared machine's load does not move, unlike the latency)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._orig = app._display
        self._predicate = None
        self._t0 = 0.0
        self._cpu0 = 0.0
        self.latency: float | None = None
        self.cpu: float | None = None
        app._display = self._display

    def _display(self, screen: Any, renderable: Any) -> None:
        self._orig(screen, renderable)
        if renderable is not None and self._predicate is not None and self._predicate():
            self.latency = time.perf_counter() - self._t0
            self.cpu = time.thread_time() - self._cpu0  # the UI thread draws the frames
            self._predicate = None

    def expect(self, predicate: Any, t0: float | None = None) -> None:
        self.latency = self.cpu = None
        self._t0 = t0 if t0 is not None else time.perf_counter()
        self._cpu0 = time.thread_time()  # called on the UI thread (the app's loop)
        self._predicate = predicate

    async def wait(self, pilot: Any, timeout: float = 5.0) -> float | None:
        deadline = time.monotonic() + timeout
        while self.latency is None and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        return self.latency


def send_key(app: Any, key: str) -> None:
    """Post a key as the terminal driver does. (`Pilot.press` also waits for the app to
    be idle, which an app with a job reporting progress ten times a second rarely is.)"""
    from textual import events

    char = {"space": " "}.get(key, key if len(key) == 1 else None)
    app.post_message(events.Key(key, char))


async def wait_for(pilot: Any, predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await pilot.pause(0.02)


def make_app(settings: Any) -> Any:
    from magray_tui.tui.app import MagrayApp

    return MagrayApp(settings, watch_themes=False)


# ---- (b) input latency while ingesting ----------------------------------------------------
def make_tree(root: Path, chunks: int) -> int:
    """Python files of ~10 chunks each (top-level functions of ~750 characters)."""
    root.mkdir(parents=True, exist_ok=True)
    body = "    total = 0\n" + "".join(f"    total += value * {k} - {k} // 3\n" for k in range(22))
    files = chunks // 10
    for i in range(files):
        funcs = [f"def work_{i}_{j}(value):\n{body}    return total\n" for j in range(10)]
        (root / f"mod_{i:04d}.py").write_text("\n\n".join(funcs), encoding="utf-8")
    return files


async def measure_keys(pilot: Any, clock: FrameClock, rounds: int) -> dict[str, list[float]]:
    """Four blocks, each timed key by key: cursor moves in the results; typing in the
    search box (a few letters, then cleared: the searches it starts land in between, as
    they do for a user); search-as-you-type (a word typed at ~16 keys/s, timed from its
    last key to the frame showing its results); switching to the Chat pane and back."""
    app = pilot.app
    browser = app.query_one("#pane-memory")
    table = browser.table
    query = browser.query_one("#memory-query")
    out: dict[str, list[float]] = {
        "cursor": [],
        "typing": [],
        "search": [],
        "pane_switch": [],
        "pane_to_chat": [],
        "pane_to_memory": [],
    }
    cpu: dict[str, list[float]] = {}  # the UI thread's CPU time per key, by kind

    def record(kind: str, latency: float | None) -> None:
        if latency is not None:
            out[kind].append(latency * 1000)
            cpu.setdefault(kind, []).append((clock.cpu or 0.0) * 1000)

    async def timed(kind: str, key: str, predicate: Any) -> None:
        clock.expect(predicate)
        send_key(app, key)
        record(kind, await clock.wait(pilot))

    table.focus()
    await asyncio.sleep(0.3)
    for _ in range(rounds):
        key = "down" if table.cursor_row <= 0 else "up"
        target = table.cursor_row + (1 if key == "down" else -1)
        await timed("cursor", key, lambda t=target: table.cursor_row == t)
        await asyncio.sleep(0.15)
    query.focus()
    await asyncio.sleep(0.1)
    query.action_end()  # focusing selects the text: a key would replace it
    for i in range(rounds):
        char = "memoryindex"[i % 11]
        want = query.value + char
        await timed("typing", char, lambda w=want: query.value == w)
        await asyncio.sleep(0.12)
        if len(query.value) >= 6:
            query.value = ""
            await asyncio.sleep(0.4)
    for i in range(max(rounds // 2, 1)):
        word = SEARCH_WORDS[i % len(SEARCH_WORDS)] + str(i)  # never an embedding cache hit
        query.value = ""
        await asyncio.sleep(0.3)
        for char in word[:-1]:
            send_key(app, char)
            await asyncio.sleep(0.06)
        clock.expect(lambda w=word: SHOWN["query"] == w)
        send_key(app, word[-1])
        record("search", await clock.wait(pilot))
        await asyncio.sleep(0.2)
    for _ in range(max(rounds // 2, 1)):
        for pane, key in (("chat", "1"), ("memory", "2")):
            app.screen.set_focus(None)
            await timed(f"pane_to_{pane}", key, lambda p=pane: app.active_pane_id == p)
            await asyncio.sleep(0.3)
    out["pane_switch"] = out["pane_to_chat"] + out["pane_to_memory"]
    cpu["pane_switch"] = cpu.get("pane_to_chat", []) + cpu.get("pane_to_memory", [])
    out.update({f"{kind}_ui_cpu": values for kind, values in cpu.items()})
    return out


async def run_input(settings: Any, tree: Path, rounds: int, during_ingest: bool) -> dict[str, Any]:
    app = make_app(settings)
    close_error = None
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.backend is not None)
            browser = app.query_one("#pane-memory")
            await wait_for(pilot, lambda: browser.workspace_ready and browser.table.row_count)
            clock = FrameClock(app)
            chunks_at_start = chunks_at_end = 0
            if during_ingest:
                browser.run_ingest(str(tree))
                await wait_for(pilot, lambda: app.jobs.running(f"ingesting {tree.name}"))
                # Measure once embedding has begun (the walk and chunking come first).
                await wait_for(pilot, lambda: _chunks_done(app) > 0, 300)
                chunks_at_start = _chunks_done(app)
            t0 = time.perf_counter()
            samples = await measure_keys(pilot, clock, rounds)
            seconds = time.perf_counter() - t0
            if during_ingest:
                chunks_at_end = _chunks_done(app)
                still_running = browser.ingesting
                browser.action_cancel_ingest()
                await wait_for(pilot, lambda: not browser.ingesting, 120)
            else:
                still_running = False
    finally:
        try:
            app.close_backend()
        except Exception as exc:  # recorded, not hidden: the keys were measured by then
            close_error = f"{type(exc).__name__}: {exc}"
            log(f"closing the services failed: {close_error}")
    result: dict[str, Any] = {name: percentiles(values) for name, values in samples.items()}
    if close_error:
        result["close_failed"] = close_error
    for suffix in ("", "_ui_cpu"):
        kinds = ("cursor", "typing", "search", "pane_switch")
        result[f"all{suffix}"] = percentiles([v for k in kinds for v in samples[k + suffix]])
    result["seconds"] = round(seconds, 1)
    if during_ingest:
        embedded = chunks_at_end - chunks_at_start
        result["ingest_chunks_embedded_while_measuring"] = embedded
        result["ingest_chunks_per_s_while_measuring"] = round(embedded / seconds, 1)
        result["ingest_still_running_at_end"] = still_running
        # Keys measured "during an ingest" that embedded nothing measured an idle app.
        result["valid"] = embedded > 0 and still_running
        if not result["valid"]:
            log("NOT VALID: the ingest did not embed all along the measuring window")
    return result


def _chunks_done(app: Any) -> int:
    for job in app.jobs.snapshot():
        m = re.match(r"(?:\w+ · )?([\d,]+) chunks", job.detail)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0


@contextlib.contextmanager
def busy_process() -> Iterator[None]:
    """One competing process spinning on a core, as a desktop's background load does."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def bench_input(rounds: int, chunks: int) -> dict[str, Any]:
    from common import bench_settings

    record_shown_queries()
    out: dict[str, Any] = {"tree_chunks_planned": chunks}
    with temp_home("magray-bench-tui-input-") as home:
        seed_home(home)
        tree = home.parent / f"{home.name}-tree"
        try:
            out["tree_files"] = files = make_tree(tree, chunks)
            settings = bench_settings(home)
            log("input latency, idle")
            out["idle"] = asyncio.run(run_input(settings, tree, rounds, during_ingest=False))
            log(f"input latency while ingesting {files} files (~{chunks} chunks)")
            out["ingesting"] = asyncio.run(run_input(settings, tree, rounds, during_ingest=True))
            log("the same, with one competing busy process")
            with busy_process():
                out["load_average_busy_start"] = load_average()
                out["ingesting_busy"] = asyncio.run(
                    run_input(settings, tree, rounds, during_ingest=True)
                )
                out["load_average_busy_end"] = load_average()
        finally:
            shutil.rmtree(tree, ignore_errors=True)
    return out


# ---- (c) search-as-you-type at 100k -------------------------------------------------------
def build_100k(n: int, quick: bool) -> Path:
    home = CACHE_100K if not quick else CACHE_100K.with_name(CACHE_100K.name + "-quick")
    marker = home / "built.txt"
    if marker.exists() and marker.read_text().strip() == str(n):
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    from bench_memory import Synth, base_corpus
    from common import bench_settings

    from magray_tui.ai import load_embedder
    from magray_tui.memory import MemoryService

    base_texts, _, _ = base_corpus(True)
    log(f"building a {n:,}-record store in {home} (embedding {len(base_texts)} base texts)")
    embedder = load_embedder(bench_settings(home, threads=2))
    synth = Synth(embedder.embed_documents(base_texts), base_texts)
    with MemoryService.open(settings=bench_settings(home), embedder=embedder) as memory:
        step = 5000
        for start in range(0, n, step):
            vecs, items = synth.chunk(start // step, min(step, n - start))
            for i in range(0, len(items), 256):
                memory.add_many(items[i : i + 256], vectors=vecs[i : i + 256])
            log(f"  {start + len(items):,} records")
    marker.write_text(str(n))
    return home


async def run_search(settings: Any, queries: list[str]) -> dict[str, Any]:
    from magray_tui.tui.panes.memory_browser import DEBOUNCE_S

    app = make_app(settings)
    samples: list[float] = []
    listing_ms = facets_ms = 0.0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.backend is not None, 120)
            browser = app.query_one("#pane-memory")
            await wait_for(pilot, lambda: browser.workspace_ready and browser.table.row_count, 60)
            memory = app.backend.memory
            t0 = time.perf_counter()
            memory.list(limit=100)
            listing_ms = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            memory.facets()
            facets_ms = (time.perf_counter() - t0) * 1000
            clock = FrameClock(app)
            query = browser.query_one("#memory-query")
            for text in queries:
                query.value = ""
                await asyncio.sleep(0.4)
                query.focus()
                for char in text[:-1]:
                    send_key(app, char if char != " " else "space")
                    await asyncio.sleep(0.06)  # a fast typist: ~16 keys/s
                t_last = time.perf_counter()
                clock.expect(lambda b=browser, q=text: _showing_results_for(b, q), t0=t_last)
                send_key(app, text[-1])
                if (lat := await clock.wait(pilot, 10)) is not None:
                    samples.append(lat * 1000)
    finally:
        app.close_backend()
    debounce_ms = DEBOUNCE_S * 1000
    return {
        "queries": len(queries),
        "including_debounce_ms": percentiles(samples),
        "excluding_debounce_ms": percentiles([s - debounce_ms for s in samples]),
        "debounce_ms": debounce_ms,
        "service_list_100_ms": round(listing_ms, 1),
        "service_facets_ms": round(facets_ms, 1),
    }


SHOWN: dict[str, str | None] = {"query": None}


def record_shown_queries() -> None:
    """The browser calls `summary(request, …)` for the results it shows (never for stale
    ones): remember which query those results answer."""
    import magray_tui.tui.panes.memory_browser as browser_module

    original = browser_module.summary

    def summary(request: Any, *args: Any) -> str:
        SHOWN["query"] = request.query
        return original(request, *args)

    browser_module.summary = summary


def _showing_results_for(browser: Any, text: str) -> bool:
    return SHOWN["query"] == text


def bench_search(n: int, quick: bool) -> dict[str, Any]:
    from common import bench_settings

    home = build_100k(n, quick)
    os.environ["MAGRAY_HOME"] = str(home)
    record_shown_queries()
    settings = bench_settings(home)
    result = asyncio.run(run_search(settings, QUERIES))
    result["records"] = n
    return result


# ---- main ---------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs, 10k records, fewer keys")
    parser.add_argument("--only", default="first_frame,input,search")
    args = parser.parse_args()
    only = set(args.only.split(","))
    result: dict[str, Any] = {"quick": args.quick}
    name = "tui_quick" if args.quick else "tui"
    previous = RESULTS_DIR / f"{name}.json"
    if only != {"first_frame", "input", "search"} and previous.exists():
        # A partial run keeps the other parts' last numbers (each part has its own load).
        old = json.loads(previous.read_text())
        for part in ("first_frame", "input", "search"):
            if part not in only and part in old:
                result[part] = old[part]
    result["load_average_at_start"] = load_average()
    if "first_frame" in only:
        log("first frame (pty)")
        result["first_frame"] = bench_first_frame(3 if args.quick else 5)
    if "input" in only:
        result["input"] = bench_input(10 if args.quick else 30, 2_000)
    if "search" in only:
        result["search"] = bench_search(10_000 if args.quick else 100_000, args.quick)
    result["load_average_at_end"] = load_average()
    rows = []
    if "first_frame" in result:
        ff = result["first_frame"]
        rows.append(
            (
                "first frame, median (s)",
                ff["median_s"],
                TARGETS["first_frame_s"],
                ff["median_s"] <= TARGETS["first_frame_s"],
            )
        )
        if "ratio_to_bare" in ff:
            rows.append(
                (
                    f"first frame / bare Textual app ({ff['bare_textual_median_s']} s)",
                    ff["ratio_to_bare"],
                    TARGETS["first_frame_ratio"],
                    ff["ratio_to_bare"] <= TARGETS["first_frame_ratio"],
                )
            )
    if "input" in result:
        for state in ("ingesting", "ingesting_busy"):
            part = result["input"].get(state, {})
            if "valid" in part:
                rows.append(
                    (
                        f"{state}: chunks embedded while measuring (chunks/s)",
                        f"{part['ingest_chunks_embedded_while_measuring']} "
                        f"({part['ingest_chunks_per_s_while_measuring']})",
                        "> 0",
                        part["valid"],
                    )
                )
        for state in ("idle", "ingesting", "ingesting_busy"):
            for kind in ("cursor", "typing", "search", "pane_to_chat", "pane_to_memory", "all"):
                p = result["input"].get(state, {}).get(kind, {})
                if p.get("n"):
                    ok = p["p95"] <= TARGETS["input_p95_ms"] if state != "idle" else None
                    rows.append(
                        (
                            f"input {kind}, {state}: p50 / p95 (ms)",
                            f"{p['p50']:.1f} / {p['p95']:.1f}",
                            TARGETS["input_p95_ms"] if ok is not None else "",
                            ok,
                        )
                    )
                cpu = result["input"].get(state, {}).get(f"{kind}_ui_cpu", {})
                if cpu.get("n"):
                    rows.append(
                        (
                            f"  UI thread CPU per {kind}, {state}: p50 / p95 (ms)",
                            f"{cpu['p50']:.1f} / {cpu['p95']:.1f}",
                            "",
                            None,
                        )
                    )
    if "search" in result:
        s = result["search"]
        for kind in ("excluding_debounce_ms", "including_debounce_ms"):
            p = s[kind]
            ok = p["p95"] <= TARGETS["search_p95_ms"] if p.get("n") else False
            rows.append(
                (
                    f"search-as-you-type {s['records']:,}, {kind}: p50 / p95",
                    f"{p.get('p50', 0):.1f} / {p.get('p95', 0):.1f}",
                    TARGETS["search_p95_ms"],
                    ok,
                )
            )
    print_table(
        "TUI benchmarks",
        ("metric", "value", "target", "pass"),
        [(m, v, t, "" if ok is None else ("pass" if ok else "FAIL")) for m, v, t, ok in rows],
    )
    path = write_result(name, result)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
