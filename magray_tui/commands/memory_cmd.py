"""`magray memory ...`: the memory store from the command line (tables, or JSON with --json)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.errors import friendly_errors
from magray_tui.commands.output import (
    dump_json,
    echo,
    echo_err,
    hits_table,
    json_line,
    print_table,
    progress_printer,
    records_table,
)
from magray_tui.memory.records import LAYERS

# Longer texts are cut to [memory] max_text_bytes anyway; past this, use `magray ingest`.
MAX_ADD_FILE_BYTES = 64 * 1024 * 1024
LAYER_CHOICE = click.Choice(list(LAYERS), case_sensitive=False)
AUTHOR_HELP = "Only memories by this author (user, assistant, tool, file, import, mcp:CLIENT)."


@contextmanager
def open_memory(app: AppContext, *, write: bool, batch: bool = False) -> Iterator[Any]:
    """The memory service: this process's own, or a proxy to the magray process that
    already has the home open (see magray_tui.host); never refused for being second.

    `batch`: a batch command (ingest, import, reindex), which may embed on every core
    (when this process ends up embedding: beside an open magray, that one embeds)."""
    from magray_tui.host.attach import command_services

    if batch:
        from magray_tui.ai.runtime import mark_batch_job

        mark_batch_job(app.settings())  # the same Settings the services load, if they do
    with command_services(app) as services:
        yield services.memory


@click.group("memory")
def command() -> None:
    """Store, search and manage memories (layers: interact, insights, assets)."""


@command.command("add")
@click.argument("text", nargs=-1)
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the text from a file ('-' for standard input).",
)
@click.option("--layer", type=LAYER_CHOICE, default="interact", show_default=True)
@click.option("--kind", default="note", show_default=True)
@click.option("--tag", "tags", multiple=True, help="Repeat for several tags.")
@click.option("--session")
@click.option("--source", default="manual", show_default=True)
@click.option("--author", help="Who wrote it (default: you, or what --source implies).")
@click.option("--importance", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option("--pin", is_flag=True, help="Never expire this memory.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def add_cmd(
    app: AppContext,
    text: tuple[str, ...],
    file_: Path | None,
    layer: str,
    kind: str,
    tags: tuple[str, ...],
    session: str | None,
    source: str,
    author: str | None,
    importance: float,
    pin: bool,
    as_json: bool,
) -> None:
    """Remember TEXT (or the contents of --file)."""
    if file_ is not None and text:
        raise click.UsageError("give the text or --file, not both")
    if file_ is not None:
        from magray_tui.commands.inputs import read_input_file

        body: str | bytes = read_input_file(file_, limit=MAX_ADD_FILE_BYTES, what="text file")
        if b"\0" in body[:8192]:
            raise click.ClickException(f"{file_} looks like a binary file; not stored")
    else:
        body = " ".join(text)
    with open_memory(app, write=True) as svc:
        new_id = svc.add(
            body,
            layer=layer,
            kind=kind,
            tags=tags,
            session=session,
            source=source,
            author=author,
            importance=importance,
            pinned=pin,
        )
        record = svc.get(new_id, count_access=False)
    if as_json:
        dump_json(record.to_dict())
        return
    echo(new_id)
    if "truncated" in record.metadata:
        t = record.metadata["truncated"]
        echo_err(f"note: text truncated from {t['original_bytes']:,} to {t['kept_bytes']:,} bytes")


def _search_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True),
        click.option("--layer", "layers", type=LAYER_CHOICE, multiple=True),
        click.option("--kind", "kinds", multiple=True),
        click.option("--tag", "tags", multiple=True, help="Hits must have all these tags."),
        click.option("--session"),
        click.option("--author", "authors", multiple=True, help=AUTHOR_HELP),
        click.option("--since", help="ISO-8601 time: created at or after."),
        click.option("--until", help="ISO-8601 time: created before."),
        click.option(
            "--mode",
            type=click.Choice(["hybrid", "vector", "keyword"]),
            default="hybrid",
            show_default=True,
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@command.command("search")
@click.argument("query", nargs=-1)
@_search_options
@click.option(
    "--queries",
    type=click.Path(dir_okay=False, path_type=Path),
    help='JSONL file, one {"query": ..., "k": ...} per line; one JSON line out each.',
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def search_cmd(
    app: AppContext, query: tuple[str, ...], queries: Path | None, as_json: bool, **opts: Any
) -> None:
    """Hybrid (vector + keyword) search; every hit shows why it matched."""
    if queries is None and not query:
        raise click.UsageError("give a QUERY or --queries FILE")
    with open_memory(app, write=False) as svc:
        if queries is not None:
            _batch_search(svc, queries, opts)
            return
        hits = svc.search(" ".join(query), **opts)
    if as_json:
        dump_json([h.to_dict() for h in hits])
    elif not hits:
        echo_err("no matches")
    else:
        print_table(hits_table(hits))


MAX_QUERIES_BYTES = 64 * 1024 * 1024


def _batch_search(svc: Any, path: Path, opts: dict[str, Any]) -> None:
    """One JSON line out per query line; a bad line gets its own error, the rest run."""
    from magray_tui.commands.inputs import InputError, query_spec, read_input_file
    from magray_tui.memory import MemoryError_

    raw = read_input_file(path, limit=MAX_QUERIES_BYTES, what="queries file")
    lines = raw.decode("utf-8", errors="replace").splitlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            query, args = query_spec(line, opts)
            hits = svc.search(query, **args)
            out: dict[str, Any] = {"line": n, "query": query, "hits": [h.to_dict() for h in hits]}
        except (InputError, MemoryError_) as exc:
            out = {"line": n, "error": str(exc)}
        json_line(out)


SORTS = {
    "created": "created_at DESC",
    "oldest": "created_at ASC",
    "updated": "updated_at DESC",
    "accessed": "last_access DESC",
    "popular": "access_count DESC",
    "important": "importance DESC",
}


@command.command("list")
@click.option("--layer", "layers", type=LAYER_CHOICE, multiple=True)
@click.option("--kind", "kinds", multiple=True)
@click.option("--tag", "tags", multiple=True)
@click.option("--session")
@click.option("--author", "authors", multiple=True, help=AUTHOR_HELP)
@click.option("--forgotten", is_flag=True, help="List the tombstones instead.")
@click.option("--sort", type=click.Choice(sorted(SORTS)), default="created", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def list_cmd(app: AppContext, sort: str, as_json: bool, **opts: Any) -> None:
    """List memories, newest first."""
    with open_memory(app, write=False) as svc:
        records = svc.list(order=SORTS[sort], **opts)
    if as_json:
        dump_json([r.to_dict() for r in records])
    elif not records:
        echo_err("no memories")
    else:
        print_table(records_table(records))


@command.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def show_cmd(app: AppContext, ref: str, as_json: bool) -> None:
    """Show one memory (id or unique id prefix) with its history."""
    with open_memory(app, write=False) as svc:
        record = svc.get(ref)
        history = svc.history(record.id)
    data = record.to_dict()
    data["history"] = history
    if as_json:
        dump_json(data)
        return
    from magray_tui.commands.output import show_record

    show_record(record, history)


@command.command("forget")
@click.argument("refs", nargs=-1, required=True)
@click.option("--reason", default="")
@pass_app
@friendly_errors
def forget_cmd(app: AppContext, refs: tuple[str, ...], reason: str) -> None:
    """Move memories to the tombstones (restorable until purged)."""
    with open_memory(app, write=True) as svc:
        grace = svc.settings.memory.tombstone_grace_days
        for ref in refs:
            record = svc.forget(ref, reason=reason)
            echo(
                f"forgot {record.id} (restorable for {grace:g} days: "
                f"magray memory restore {record.id})"
            )


@command.command("restore")
@click.argument("refs", nargs=-1, required=True)
@pass_app
@friendly_errors
def restore_cmd(app: AppContext, refs: tuple[str, ...]) -> None:
    """Bring forgotten memories back."""
    with open_memory(app, write=True) as svc:
        for ref in refs:
            echo(f"restored {svc.restore(ref).id}")


@command.command("purge")
@click.argument("refs", nargs=-1)
@click.option("--all-forgotten", is_flag=True, help="Purge every tombstone, not only expired.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
@friendly_errors
def purge_cmd(app: AppContext, refs: tuple[str, ...], all_forgotten: bool, yes: bool) -> None:
    """Delete forgotten memories for good (those past the grace period, or REFS)."""
    with open_memory(app, write=True) as svc:
        if refs:
            if not yes:
                click.confirm(
                    f"Delete {len(refs)} memor{'y' if len(refs) == 1 else 'ies'} for good?",
                    abort=True,
                )
            gone = [i for ref in refs for i in svc.purge(ref)]
        else:
            if all_forgotten and not yes:
                click.confirm("Delete every forgotten memory for good?", abort=True)
            gone = svc.purge(all_forgotten=all_forgotten)
    echo(f"purged {len(gone)} memor{'y' if len(gone) == 1 else 'ies'}")


@command.command("stats")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def stats_cmd(app: AppContext, as_json: bool) -> None:
    """Counts per layer, index state, embedder."""
    with open_memory(app, write=False) as svc:
        stats = svc.stats()
    if as_json:
        dump_json(stats)
        return
    counts = stats["counts"]
    rows = [(layer, f"{n:,}") for layer, n in counts.items()]
    rows.append(("database", f"{stats['database']['path']} ({stats['database']['bytes']:,} B)"))
    idx = stats["indexes"]
    rows.append(("vector index", f"{idx['vector_entries']:,} entries"))
    rows.append(("keyword index", f"{idx['keyword_entries']:,} entries"))
    emb = stats["embedder"]
    rows.append(("embedder", f"{emb['model']} ({emb['dim']}-d, {emb['provider']})"))
    if stats.get("reembed", {}).get("pending"):
        from types import SimpleNamespace

        from magray_tui.commands.memory_reembed_cmd import reembed_line

        rows.append(("re-embed", reembed_line(SimpleNamespace(**stats["reembed"]))))
    print_table(("", ""), rows, title="memory")


@command.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--include-forgotten", is_flag=True)
@pass_app
@friendly_errors
def export_cmd(app: AppContext, path: Path, include_forgotten: bool) -> None:
    """Write memories to a JSON Lines file (one memory per line)."""
    with open_memory(app, write=False) as svc:
        n = svc.export(path, include_forgotten=include_forgotten)
    echo(f"exported {n:,} memories to {path}")


@command.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Skip bad lines instead of importing nothing.")
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Store lines without an id even when the same text is already in that layer.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@friendly_errors
def import_cmd(
    app: AppContext, path: Path, skip_bad: bool, allow_duplicates: bool, as_json: bool
) -> None:
    """Read memories from a JSON Lines file; all or nothing unless --skip-bad.

    Importing a file again adds nothing: lines whose id, or (without an id) whose text in
    the same layer, is already stored count as already present."""
    if not path.exists():
        raise click.ClickException(f"no such file: {path}")
    with open_memory(app, write=True, batch=True) as svc:
        report = svc.import_(
            path,
            skip_bad=skip_bad,
            allow_duplicates=allow_duplicates,
            progress=progress_printer("embedding"),
        )
    if as_json:
        dump_json(report.to_dict())
        return
    same = f" ({report.skipped_same_text:,} by their text)" if report.skipped_same_text else ""
    echo(
        f"imported {report.imported:,}, already present {report.skipped_existing:,}{same}, "
        f"bad lines {len(report.bad_lines):,}"
    )
    for n, err in report.bad_lines[:20]:
        echo_err(f"  line {n}: {err}")


@command.command("reindex")
@pass_app
@friendly_errors
def reindex_cmd(app: AppContext) -> None:
    """Rebuild the vector and keyword indexes from the database."""
    with open_memory(app, write=True, batch=True) as svc:
        report = svc.reindex(progress=progress_printer("reindexing"))
        n = len(svc.indexes.vectors)
    echo(f"reindexed {n:,} memories in {report.seconds:.2f} s")


def _register_lifecycle() -> None:
    from magray_tui.commands import memory_copy_cmd, memory_lifecycle_cmd, memory_reembed_cmd

    memory_lifecycle_cmd.register(command)
    memory_reembed_cmd.register(command)
    memory_copy_cmd.register(command)


_register_lifecycle()
