"""`magray gpu`: the GPUs as NVML sees them and where embeddings run; `gpu bench`
measures embedding throughput on each usable device with the same texts."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

import click

from magray_tui.commands import AppContext, pass_app
from magray_tui.commands.output import dump_json, echo, print_table

if TYPE_CHECKING:
    from magray_tui.config import Settings
    from magray_tui.monitor.gpu import GpuSnapshot
    from magray_tui.monitor.gpu_source import GpuReading


def _na(value: Any, fmt: str = "{}") -> str:
    return "N/A" if value is None else fmt.format(value)


def _gib(n: int | None) -> str:
    return _na(None if n is None else n / 1024**3, "{:.1f}")


def _gpu_row(r: GpuReading) -> list[str]:
    if r.lost:
        return [str(r.index), r.name, f"lost: {r.lost}", *[""] * 7]
    ecc = None if r.ecc_uncorrected is None else f"{r.ecc_corrected}/{r.ecc_uncorrected}"
    return [
        str(r.index),
        r.name,
        f"{_na(r.util_sm, '{:.0f}%')} / {_na(r.util_mem, '{:.0f}%')}",
        f"{_gib(r.vram_used)} / {_gib(r.vram_total)} GiB",
        _na(r.temp_c, "{:.0f} °C"),
        f"{_na(r.power_w, '{:.0f}')} / {_na(r.power_limit_w, '{:.0f}')} W",
        f"{_na(r.clock_sm_mhz)} / {_na(r.clock_mem_mhz)} MHz",
        _na(r.fan_pct, "{:.0f}%"),
        _na(r.pstate),
        _na(ecc),
    ]


def sample(settings: Settings) -> GpuSnapshot:
    from magray_tui.monitor.gpu import GpuMonitor

    monitor = GpuMonitor.from_settings(settings)
    try:
        return monitor.sample_now()
    finally:
        monitor.close()


@click.group(name="gpu", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Show the GPUs (NVML) and where embeddings run; `magray gpu bench` measures."""
    if ctx.invoked_subcommand is not None:
        return
    from magray_tui.ai.device import preflight

    settings = ctx.find_object(AppContext).settings()
    snap = sample(settings)
    provider, why = preflight(settings.embedding.device)
    device = {"requested": settings.embedding.device, "provider": provider, "reason": why}
    if as_json:
        dump_json(snap.to_dict() | {"embedding": device})
        return
    if snap.state == "no_gpu":
        echo(f"GPU: {snap.reason}")
    else:
        sys = snap.system
        echo(f"driver {_na(sys.driver_version)}, CUDA {_na(sys.cuda_version)}")
        if snap.state == "error":
            echo(f"warning: {snap.reason}")
        header = ["#", "GPU", "UTIL SM/MEM", "VRAM", "TEMP", "POWER", "CLOCK SM/MEM", "FAN"]
        print_table([*header, "PSTATE", "ECC C/U"], [_gpu_row(g.reading) for g in snap.gpus])
        procs = [
            [str(g.reading.index), str(p.pid), p.name + (" (magray)" if p.is_self else ""),
             p.kind, _na(None if p.vram_bytes is None else p.vram_bytes / 1024**2, "{:.0f} MiB")]
            for g in snap.gpus for p in g.reading.processes
        ]  # fmt: skip
        if procs:
            print_table(["GPU", "PID", "PROCESS", "KIND", "VRAM"], procs)
    name = provider.replace("ExecutionProvider", "")
    why = why.removesuffix(" — embeddings run on CPU").removesuffix(" — using CPU")
    echo(f"embeddings on {name} (embedding.device = {settings.embedding.device}): {why}")


# ---- bench -----------------------------------------------------------------------------------
_WORDS = (  # noqa: SIM905
    "memory vector index layer search keyword note agent user session insight asset model "
    "token batch device latency graph store record promote recall embed query answer fact "
    "the a of to and in for with on is was that it this from by at as"
).split()


def bench_texts(n: int, seed: int = 7) -> list[str]:
    """Distinct sentences of 5 to 60 words: the same texts on every device."""
    rng = random.Random(seed)
    return [
        f"{i}: " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 60))) for i in range(n)
    ]


def _measure(settings: Settings, device: str, texts: list[str], rounds: int) -> dict[str, Any]:
    from magray_tui.ai import load_embedder
    from magray_tui.ai.runtime import CUDA

    # The user's settings, with the device forced and no cache (every text is computed).
    local = settings.model_copy(deep=True)
    local.embedding = settings.embedding.model_copy(update={"device": device, "cache_size": 0})
    t0 = time.perf_counter()
    embedder = load_embedder(local)
    load_s = time.perf_counter() - t0
    decision = embedder.device
    if device == "cuda" and decision.provider != CUDA:
        return {"device": device, "available": False, "reason": decision.reason}
    embedder.embed_documents(texts[: embedder.batch_size])  # warm-up (CUDA kernels, arenas)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        embedder.embed_documents(texts)
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {
        "device": device,
        "available": True,
        "provider": decision.provider,
        "gpu": decision.gpu_name,
        "batch_size": embedder.batch_size,
        "threads": embedder.threads,
        "load_s": round(load_s, 2),
        "texts": len(texts),
        "best_s": round(best, 3),
        "texts_per_s": round(len(texts) / best, 1),
    }


@command.command("bench")
@click.option("--texts", "n", default=512, show_default=True, type=click.IntRange(8, 100_000))
@click.option("--rounds", default=2, show_default=True, type=click.IntRange(1, 20))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_app
def bench(app: AppContext, n: int, rounds: int, as_json: bool) -> None:
    """Embed the same N texts on CPU and on CUDA (when usable); print the speed-up."""
    from magray_tui.ai import ModelError

    settings = app.settings()
    texts = bench_texts(n)
    try:
        rows = [_measure(settings, d, texts, rounds) for d in ("cpu", "cuda")]
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    cpu, gpu = rows
    speedup = gpu["texts_per_s"] / cpu["texts_per_s"] if gpu["available"] else None
    if as_json:
        dump_json({"model": settings.embedding.model, "runs": rows, "speedup": speedup})
        return
    table = [
        [r["device"], r["provider"].replace("ExecutionProvider", ""), r["gpu"] or "-",
         str(r["batch_size"]), str(r["threads"]), f"{r['best_s']:.2f}", f"{r['texts_per_s']:.0f}"]
        for r in rows if r["available"]
    ]  # fmt: skip
    header = ["DEVICE", "PROVIDER", "GPU", "BATCH", "THREADS", f"{n} TEXTS (s)", "TEXTS/S"]
    print_table(header, table, title=f"embedding throughput, {settings.embedding.model}")
    if speedup is None:
        echo(f"cuda: not measured — {gpu['reason']}")
    else:
        echo(f"speed-up CUDA vs CPU: {speedup:.1f}×")
