"""onnxruntime and tokenizers plumbing: open files with readable errors, pool outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.ai.manifest import ModelError

if TYPE_CHECKING:
    from magray_tui.config import EmbeddingSettings, Settings

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# Graph inputs magray knows how to fill; anything else (e.g. past_key_values) is refused.
KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids")
_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}
# Preferred token-level outputs; a 2-D output is taken as already pooled.
_TOKEN_OUTPUTS = ("last_hidden_state", "token_embeddings", "hidden_states")


# What the process embeds for: a batch command (ingest, import, reindex) has no UI to keep
# responsive, so it may use every core; the TUI keeps one core for drawing.
INTERACTIVE, BATCH = "interactive", "batch"


def cores() -> int:
    """CPU cores this process may run on (its affinity, which containers and taskset set)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def mark_batch_job(settings: Settings) -> None:
    """This process runs a batch command: `embedding.intra_op_threads = 0` means all cores."""
    settings.embedding._job = BATCH


def threads_for(cfg: EmbeddingSettings) -> tuple[int, str]:
    """(onnxruntime intra-op threads, why) for the job `cfg` is marked with."""
    if cfg.intra_op_threads:
        return cfg.intra_op_threads, "embedding.intra_op_threads"
    if cfg._job == BATCH:
        if cfg.batch_threads:
            return cfg.batch_threads, "embedding.batch_threads (batch job)"
        n = cores()
        return n, f"batch job: all {n} cores"
    if cfg.interactive_threads:
        return cfg.interactive_threads, "embedding.interactive_threads"
    n = cores()
    return max(1, n - 1), f"interactive: {n} cores, one kept for the UI"


def first_line(exc: BaseException, limit: int = 240) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def open_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for bad JSON
        raise ModelError(f"cannot read tokenizer {path}: {first_line(exc)}") from None


def pad_id_of(tokenizer: Any) -> int:
    padding = tokenizer.padding
    if padding and padding.get("pad_id") is not None:
        return int(padding["pad_id"])
    for token in ("[PAD]", "<pad>", "<|endoftext|>", "</s>"):
        tid = tokenizer.token_to_id(token)
        if tid is not None:
            return int(tid)
    return 0  # masked out anyway; it only has to be a valid row of the table


@dataclass
class OpenSession:
    session: Any
    provider: str
    device_note: str
    inputs: dict[str, type]  # name -> numpy dtype, only the inputs the graph declares
    output: str
    output_rank: int
    output_dim: int | None
    run_options: Any = None


def _run_options() -> Any:
    import onnxruntime as ort

    opts = ort.RunOptions()
    # A failing run logs at ERROR level to stderr despite the session's level 3; the
    # exception already carries the message, so keep only FATAL.
    opts.log_severity_level = 4
    return opts


def _options(threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    # onnxruntime logs straight to stderr, which would scribble over the TUI.
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads  # 0 lets onnxruntime decide
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # The memory pattern plans one block per input shape, and every batch has a new shape
    # (padding per batch): it only added peak memory here (docs/memory-footprint.md).
    opts.enable_mem_pattern = False
    return opts


def _session(path: Path, threads: int, providers: list[str]) -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), _options(threads), providers=providers)
    except Exception as exc:  # ORT raises its own pybind exception types
        raise ModelError(f"cannot load {path}: {first_line(exc)}") from None


def open_session(path: Path, threads: int, provider: str = CPU) -> OpenSession:
    """Open `path` on `provider` (CUDA falls back to CPU inside onnxruntime, silently:
    the returned `provider` says which one runs). Device choice is `ai.device`'s job."""
    import onnxruntime as ort

    # The process-wide logger too: a failing CUDA provider logs at ERROR level to stderr
    # even though the exception (or fallback) already tells us; 4 keeps only FATAL.
    ort.set_default_logger_severity(4)
    providers = [CUDA, CPU] if provider == CUDA else [CPU]
    session = _session(path, threads, providers)
    running = CUDA if session.get_providers()[0] == CUDA else CPU
    return _describe(session, path, running, "")


def _describe(session: Any, path: Path, provider: str, note: str) -> OpenSession:
    inputs: dict[str, type] = {}
    for arg in session.get_inputs():
        if arg.name not in KNOWN_INPUTS:
            raise ModelError(f"{path} needs input {arg.name!r}, which magray cannot provide")
        if arg.type not in _DTYPES:
            raise ModelError(f"{path}: input {arg.name!r} has unsupported type {arg.type}")
        inputs[arg.name] = _DTYPES[arg.type]
    if "input_ids" not in inputs:
        raise ModelError(f"{path} has no input_ids input; it is not a text encoder")
    outputs = session.get_outputs()
    chosen = next((o for o in outputs if o.name in _TOKEN_OUTPUTS), None)
    chosen = chosen or next((o for o in outputs if len(o.shape) == 3), None)
    chosen = chosen or next((o for o in outputs if len(o.shape) == 2), None)
    if chosen is None:
        raise ModelError(f"{path} has no [batch, sequence, dim] or [batch, dim] output")
    last = chosen.shape[-1]
    return OpenSession(
        session=session,
        provider=provider,
        device_note=note,
        inputs=inputs,
        output=chosen.name,
        output_rank=len(chosen.shape),
        output_dim=last if isinstance(last, int) else None,
        run_options=_run_options(),
    )


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """[batch, seq, dim] token states -> [batch, dim], ignoring padded positions."""
    hidden = hidden.astype(np.float32, copy=False)
    if mode == "cls":
        return hidden[:, 0, :]
    if mode == "last_token":
        # The last position whose mask is 1, so left or right padding both work.
        seq = mask.shape[1]
        last = seq - 1 - np.argmax(mask[:, ::-1] > 0, axis=1)
        return hidden[np.arange(hidden.shape[0]), last, :]
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    return summed / np.maximum(weights.sum(axis=1), 1e-9)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # An all-zero row stays zero rather than turning into NaN.
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
