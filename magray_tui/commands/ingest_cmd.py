"""`magray ingest PATH...`: files and folders into the Assets layer, kept in sync.

Without options it ingests (incrementally: only what changed since last time). `--watch`
keeps watching (and remembers the folders); `--watched`, `--unwatch` and `--remove` manage
them. Ctrl-C cancels cleanly: what was stored stays, and the next run resumes.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.errors import friendly_errors
from magray_tui.commands.memory_cmd import open_memory
from magray_tui.commands.output import dump_json, echo, echo_err, json_line, print_table

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9}
_UNITS |= {"kib": 1024, "mib": 2**20, "gib": 2**30}


def parse_size(ctx: Any, param: Any, value: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not m or m.group(2).lower() not in _UNITS:
        raise click.BadParameter("use a size such as 500KB, 2MB or 1048576")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def progress_line() -> Callable[[Any], None] | None:
    """One redrawn status line on a terminal's stderr: files, chunks, rate, ETA."""
    if not sys.stderr.isatty():
        return None

    def show(p: Any) -> None:
        if p.phase in ("done", "cancelled"):
            sys.stderr.write("\r\033[K")
        else:
            text = (
                f"{p.phase}: files {p.files_done:,}/{p.files_total:,} · "
                f"chunks {p.chunks_done:,} · "
                f"{p.chunks_per_s:,.1f} chunks/s · ETA {_duration(p.eta_s)}"
            )
            sys.stderr.write("\r\033[K" + text[:200])
        sys.stderr.flush()

    return show


@contextlib.contextmanager
def ctrl_c_calls(action: Callable[[], None]) -> Iterator[None]:
    """First Ctrl-C calls `action` (a clean stop); a second one interrupts at once."""
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    hits = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal hits
        hits += 1
        if hits > 1:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        echo_err("\nstopping… (Ctrl-C again to stop at once)")
        action()

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _options(**kw: Any):
    from magray_tui.ingest import IngestOptions

    return IngestOptions(
        max_file_bytes=kw["max_size"],
        chunk_chars=kw["chunk_chars"],
        overlap_chars=max(0, kw["chunk_chars"] * 3 // 20),
        ignore=tuple(kw["ignore"]),
        default_ignores=not kw["no_default_ignores"],
        gitignore=not kw["no_gitignore"],
    )


def _print_report(report: Any, as_json: bool, prefix: str = "") -> None:
    if as_json:
        json_line(report.to_dict())
        return
    line = report.summary()
    if report.chunks_added and report.seconds > 0:
        line += f" (embedding {report.embed_seconds / report.seconds:.0%})"
    echo(prefix + line)
    for extra in report.skip_lines():
        echo(prefix + extra)


@click.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--watch", is_flag=True, help="Keep watching; PATHS join the saved folders.")
@click.option("--watched", "list_watched", is_flag=True, help="List the watched folders.")
@click.option("--unwatch", is_flag=True, help="Stop watching PATHS (their chunks stay).")
@click.option("--remove", is_flag=True, help="Purge every chunk ingested from PATHS.")
@click.option("--ignore", multiple=True, help="gitignore-style pattern to skip; repeatable.")
@click.option("--no-gitignore", is_flag=True, help="Do not read .gitignore files.")
@click.option(
    "--no-default-ignores", is_flag=True, help="Do not skip .git, node_modules, caches, locks."
)
@click.option(
    "--max-size", default="1MB", show_default=True, callback=parse_size, help="Skip larger files."
)
@click.option("--chunk-chars", type=click.IntRange(200, 20_000), default=800, show_default=True)
@click.option(
    "--debounce",
    type=click.IntRange(50, 60_000),
    default=1000,
    show_default=True,
    help="Watch mode: group changes over at most this many ms.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON output (one line per report).")
@pass_app
@friendly_errors
def command(app: AppContext, paths: tuple[Path, ...], **kw: Any) -> None:
    """Ingest files and folders into the Assets layer (incremental: run it again anytime).

    Honours .gitignore and the ignore patterns; skips binary and oversized files (and
    says which); each chunk keeps its file and line range (shown with search results).
    """
    modes = [m for m in ("watch", "list_watched", "unwatch", "remove") if kw[m]]
    if len(modes) > 1:
        raise click.UsageError("use one of --watch, --watched, --unwatch, --remove")
    mode = modes[0] if modes else "ingest"
    if mode in ("ingest", "unwatch", "remove") and not paths:
        raise click.UsageError("give one or more PATHs")
    from magray_tui.ingest import WatchedError

    try:
        {
            "ingest": _ingest,
            "watch": _watch,
            "list_watched": _list_watched,
            "unwatch": _unwatch,
            "remove": _remove,
        }[mode](app, list(paths), kw)
    except WatchedError as exc:
        raise click.ClickException(str(exc)) from None


def _ingest(app: AppContext, paths: list[Path], kw: dict[str, Any]) -> None:
    from magray_tui.ingest import Ingestor

    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if len(missing) == len(paths):
        raise click.ClickException(f"no such file or folder: {', '.join(map(str, missing))}")
    from magray_tui.ai.runtime import mark_batch_job
    from magray_tui.host.attach import command_services

    mark_batch_job(app.settings())  # all cores for embedding, when this process embeds
    with command_services(app) as services:
        membership = services.membership()
        if membership.remote:
            # Another magray hosts the home: it ingests (its model is warm), we show progress.
            report = _ingest_on_host(membership.client, paths, _options(**kw))
        else:
            ingestor = Ingestor(services.memory, _options(**kw), progress=progress_line())
            with ctrl_c_calls(ingestor.cancel):
                report = ingestor.ingest(paths)
    _print_report(report, kw["as_json"])
    if report.cancelled:
        sys.exit(130)


def _ingest_on_host(client: Any, paths: list[Path], options: Any) -> Any:
    import uuid

    job = uuid.uuid4().hex
    with ctrl_c_calls(lambda: client.call_aside("ingest.cancel", job)):
        return client.call(
            "ingest.ingest",
            [str(p.absolute()) for p in paths],
            options,
            progress=progress_line(),
            job=job,
        )


def _watch(app: AppContext, paths: list[Path], kw: dict[str, Any]) -> None:
    from magray_tui.ingest import Watcher, add_watched, load_watched

    settings = app.settings()
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise click.ClickException(f"no such file or folder: {', '.join(map(str, missing))}")
    if paths:
        add_watched(settings, paths)
    roots = [f.path for f in load_watched(settings) if f.enabled]
    if not roots:
        raise click.ClickException("no watched folders yet: magray ingest --watch PATH")
    as_json = kw["as_json"]

    def on_report(what: str, report: Any) -> None:
        if what == "batch" and not (report.wrote or report.problems or report.files_removed):
            return
        _print_report(report, as_json, "" if as_json else time.strftime("%H:%M:%S  "))

    with open_memory(app, write=True) as svc:
        if getattr(svc, "remote", False):
            # The watcher walks and embeds in this process; beside an open magray it would
            # need the store here. That magray's Memory pane watches folders itself.
            raise click.ClickException(
                "this home is open in another magray, which does the watching: use its "
                "Memory pane (w: watched folders); the folders are recorded in watched.json"
            )
        watcher = Watcher(
            svc,
            roots,
            _options(**kw),
            debounce_ms=kw["debounce"],
            on_report=on_report,
            on_message=echo_err,
            progress=progress_line(),
        )
        if not as_json:
            echo_err(f"watching {len(roots)} folder(s) (Ctrl-C to stop): " + ", ".join(roots))
        with ctrl_c_calls(watcher.stop):
            watcher.run()
    if watcher.error:
        raise click.ClickException(f"watching failed: {watcher.error}")


def _list_watched(app: AppContext, paths: list[Path], kw: dict[str, Any]) -> None:
    from magray_tui.ingest import load_watched
    from magray_tui.memory import MemoryError_
    from magray_tui.memory.sources import file_summary

    folders = load_watched(app.settings())
    rows = []
    from magray_tui.host.attach import command_services

    try:
        with command_services(app) as services:
            membership = services.membership()
            for f in folders:
                if membership.remote:
                    files = membership.client.call("ingest.file_summary", f.path)
                else:
                    files = file_summary(services.memory, under=f.path)
                rows.append((f, len(files), sum(files.values())))
    except MemoryError_:  # no database yet: nothing ingested
        rows = [(f, 0, 0) for f in folders]
    if kw["as_json"]:
        dump_json(
            [
                {
                    "path": f.path,
                    "enabled": f.enabled,
                    "exists": f.exists,
                    "added_at": f.added_at,
                    "files": n_files,
                    "chunks": n_chunks,
                }
                for f, n_files, n_chunks in rows
            ]
        )
        return
    if not rows:
        echo_err("no watched folders (magray ingest --watch PATH adds one)")
        return
    table = [
        (f.path, "on" if f.enabled else "off", "yes" if f.exists else "MISSING", f"{n:,}", f"{c:,}")
        for f, n, c in rows
    ]
    print_table(("folder", "watch", "exists", "files", "chunks"), table, title="watched folders")


def _unwatch(app: AppContext, paths: list[Path], kw: dict[str, Any]) -> None:
    from magray_tui.ingest import remove_watched

    removed = remove_watched(app.settings(), paths)
    for p in removed:
        echo(f"no longer watching {p} (its chunks stay; --remove purges them)")
    not_found = len(paths) - len(removed)
    if not_found > 0:
        echo_err(f"{not_found} path(s) were not watched")


def _remove(app: AppContext, paths: list[Path], kw: dict[str, Any]) -> None:
    from magray_tui.host.attach import command_services
    from magray_tui.ingest import Ingestor

    with command_services(app) as services:
        membership = services.membership()
        if membership.remote:
            report = membership.client.call("ingest.remove", [str(p.absolute()) for p in paths])
        else:
            report = Ingestor(services.memory).remove(paths)
    if kw["as_json"]:
        echo(json.dumps(report.to_dict()))
    else:
        echo(f"removed {report.chunks_removed:,} chunks of {report.files_removed:,} files")
