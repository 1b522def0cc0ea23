"""`magray models`: list, check and warm up the embedding models."""

from __future__ import annotations

import json
import statistics
import time
from typing import TYPE_CHECKING, Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import echo

if TYPE_CHECKING:
    from magray_tui.ai import ModelInfo
    from magray_tui.config import Settings

_SAMPLE = [
    "magray keeps a layered memory of what the agent learns.",
    "The quick brown fox jumps over the lazy dog.",
    "",
    "Vector search finds notes by meaning, keyword search by exact words.",
]


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _registry(app: AppContext) -> tuple[Settings, Any]:
    from magray_tui.ai import ModelRegistry

    settings = app.settings()
    return settings, ModelRegistry(settings)


def _selected(registry: Any, model_id: str | None) -> list[ModelInfo]:
    from magray_tui.ai import ModelError

    if model_id is None:
        return registry.list()
    try:
        return [registry.get(model_id)]
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(name="models")
def command() -> None:
    """List, check and warm up embedding models (packaged and in the models dirs)."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_app
def list_models(app: AppContext, as_json: bool) -> None:
    """Show every model magray can see, with what is wrong with the broken ones."""
    _, registry = _registry(app)
    models = registry.list()
    if as_json:
        echo(json.dumps([m.to_dict() for m in models], indent=2))
        return
    rows = [
        [
            m.id,
            m.kind,
            str(m.dim or "?"),
            m.pooling or "?",
            m.origin,
            str(m.path),
            ("ok" + (f" ({m.note})" if m.note else ""))
            if m.ok
            else "problem: " + "; ".join(m.problems),
        ]
        for m in models
    ]
    echo(_table(rows, ["ID", "KIND", "DIM", "POOLING", "ORIGIN", "PATH", "STATUS"]))
    dirs = ", ".join(str(d) for d in registry.models_dirs())
    echo(f"\nmodels dirs searched: {dirs}")


def _check_one(settings: Settings, info: ModelInfo) -> dict[str, Any]:
    from magray_tui.ai import ModelError, load_embedder

    result: dict[str, Any] = {"id": info.id, "kind": info.kind, "dim": info.dim}
    if info.kind != "embedding" and info.ok:
        result.update(status="skipped", reason="rerankers are not used yet")
        return result
    try:
        t0 = time.perf_counter()
        embedder = load_embedder(settings, info.id)
        load_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        vectors = embedder.embed_documents(_SAMPLE)
        latency_ms = (time.perf_counter() - t0) * 1000
    except ModelError as exc:
        result.update(status="failed", reason=str(exc))
        return result
    result.update(
        status="ok",
        dim=int(vectors.shape[1]),
        provider=embedder.provider,
        device_note=embedder.device_note,
        load_ms=round(load_ms, 1),
        latency_ms=round(latency_ms, 2),
    )
    return result


@command.command("check")
@click.argument("model_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@pass_app
def check(app: AppContext, model_id: str | None, as_json: bool) -> None:
    """Load each model (or just MODEL_ID) and embed a few texts. Exit 1 if any fails."""
    settings, registry = _registry(app)
    results = [_check_one(settings, info) for info in _selected(registry, model_id)]
    if as_json:
        echo(json.dumps(results, indent=2))
    else:
        for r in results:
            if r["status"] == "ok":
                note = f" ({r['device_note']})" if r["device_note"] else ""
                echo(
                    f"ok      {r['id']}: dim {r['dim']}, {r['provider']}{note}, "
                    f"load {r['load_ms']:.0f} ms, {len(_SAMPLE)} texts in {r['latency_ms']:.1f} ms"
                )
            else:
                echo(f"{r['status']:<7} {r['id']}: {r['reason']}")
    if any(r["status"] == "failed" for r in results):
        raise SystemExit(1)


@command.command("warmup")
@click.argument("model_id", required=False)
@click.option("--batches", default=5, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a line.")
@pass_app
def warmup(app: AppContext, model_id: str | None, batches: int, as_json: bool) -> None:
    """Load a model (default: the configured one) and run a few batches; print latency."""
    from magray_tui.ai import ModelError, load_embedder

    settings, _ = _registry(app)
    try:
        embedder = load_embedder(settings, model_id)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    size = settings.embedding.batch_size
    timings = []
    for b in range(batches):
        # Distinct texts per batch so the cache cannot make the timings meaningless.
        texts = [f"{_SAMPLE[i % 2]} (warm-up text {b}-{i})" for i in range(size)]
        t0 = time.perf_counter()
        embedder.embed_documents(texts)
        timings.append((time.perf_counter() - t0) * 1000)
    result = {
        "id": embedder.model_id,
        "provider": embedder.provider,
        "batch_size": size,
        "batches": batches,
        "first_batch_ms": round(timings[0], 2),
        "median_batch_ms": round(statistics.median(timings), 2),
        "texts_per_s": round(size * 1000 / statistics.median(timings), 1),
    }
    if as_json:
        echo(json.dumps(result, indent=2))
    else:
        echo(
            f"{result['id']} on {result['provider']}: first batch {result['first_batch_ms']:.1f}"
            f" ms, median {result['median_batch_ms']:.1f} ms for {size} texts"
            f" ({result['texts_per_s']:.0f} texts/s)"
        )


@command.command("build")
@click.argument("model_id", required=False)
@click.option(
    "--install",
    "into_env",
    is_flag=True,
    help="Build into the Python environment (shared by every home; `make install` does).",
)
@pass_app
def build(app: AppContext, model_id: str | None, into_env: bool) -> None:
    """Build the models magray makes from original weights (default: all of them)."""
    from magray_tui.ai import ModelError, ModelRegistry, model_build

    settings = app.settings()
    registry = ModelRegistry(settings)
    specs = list(model_build.SPECS.values())
    if model_id is not None:
        if model_id not in model_build.SPECS:
            known = ", ".join(model_build.SPECS)
            raise click.ClickException(f"{model_id!r} is not a built model; built models: {known}")
        specs = [model_build.SPECS[model_id]]

    def progress(step: str, done: int, total: int) -> None:
        click.echo(f"  [{done}/{total}] {step}", err=True)

    for spec in specs:
        folders = registry.build_dirs(spec.id)
        folders = folders[:1] if into_env else folders
        click.echo(f"{spec.id}:", err=True)
        try:
            folder, note = model_build.ensure_built(spec, folders, progress)
        except (ModelError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        if note:
            click.echo(f"  {note}", err=True)
        click.echo(f"{spec.id}: {folder}")
