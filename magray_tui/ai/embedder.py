"""Text -> unit vectors with onnxruntime + tokenizers (no torch).

Texts are tokenized once, sorted by token length and run in batches padded only to the
longest text of each batch (padding costs time linearly); results go back in input order.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from magray_tui.ai.cache import EmbeddingCache
from magray_tui.ai.device import (
    MEASURE_TOKENS,
    DeviceDecision,
    DeviceRunner,
    measure_batch,
    select_session,
    vram_batch,
)
from magray_tui.ai.manifest import ModelError, ModelManifest
from magray_tui.ai.onnx_graph import read_tables
from magray_tui.ai.registry import ModelInfo, ModelRegistry
from magray_tui.ai.runtime import (
    CPU,
    CUDA,
    OpenSession,
    first_line,
    l2_normalize,
    open_session,
    open_tokenizer,
    pad_id_of,
    pool,
    threads_for,
)
from magray_tui.monitor.metrics import metrics

if TYPE_CHECKING:
    from magray_tui.config import Settings

log = logging.getLogger(__name__)
TextLike = str | bytes
# Characters kept per token of max length: far more than any tokenizer needs (~4-5 chars
# per token in English), while a 50 MB paste never reaches the tokenizer whole.
CHARS_PER_TOKEN = 16


def plan_batches(lengths: Sequence[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Indexes of `lengths` grouped into batches, shortest texts first.

    A batch holds at most `batch_size` texts and at most `batch_tokens` padded tokens
    (texts × the longest of them), but always at least one text. The memory one run needs
    grows with that product (and attention with its square), so a count alone lets 32 long
    texts ask for ~1 GB where 32 short ones need a few MB (docs/memory-footprint.md).
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[i]  # sorted: the newest text is the longest of its batch
        if current and (len(current) >= batch_size or (len(current) + 1) * width > batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass
class EmbedResult:
    vectors: np.ndarray  # float32 (n, dim)
    truncated: list[bool]  # True where the text was cut (characters or tokens)


class Embedder:
    """One loaded embedding model. Thread-safe; build it with `load_embedder`."""

    def __init__(
        self,
        info: ModelInfo,
        manifest: ModelManifest,
        opened: OpenSession,
        tokenizer: Any,
        *,
        max_length: int,
        batch_size: int,
        cache_size: int,
        cache_bytes: int | None = None,
        batch_tokens: int = 1 << 62,
        threads: tuple[int, str] = (0, "onnxruntime decides"),
        runner: DeviceRunner | None = None,
    ) -> None:
        self.info = info
        self.manifest = manifest
        self.model_id = info.id
        self.dim = manifest.dim
        self.max_length = max_length
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.batch_tokens_set = False  # the user set embedding.batch_tokens
        self.char_limit = max_length * CHARS_PER_TOKEN
        self.session = opened.session
        self.tokenizer = tokenizer
        self._opened = opened
        # Runs the graph; moves to CPU for a while after repeated GPU errors.
        self.runner = runner or DeviceRunner(
            opened,
            DeviceDecision("cpu", opened.provider, opened.device_note, batch_size),
            lambda: opened,
        )
        self.output_name = opened.output  # the graph output pooled (bench uses it)
        self.pad_id = pad_id_of(tokenizer)
        # The shipped tokenizer pads and truncates to a fixed 128: pad per batch instead
        # (done here, in numpy) and truncate at the model's real limit.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length)
        self.cache = EmbeddingCache(cache_size, cache_bytes)
        self.threads, self.threads_note = threads
        self._run_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.texts_embedded = 0
        self.batches_run = 0
        self.truncated_count = 0
        self.last_batch_ms = 0.0
        self.total_run_ms = 0.0

    # ----- device -----------------------------------------------------------------------
    @property
    def device(self) -> DeviceDecision:
        """Which execution provider runs the model now, why, and the batch size."""
        return replace(self.runner.status(), batch_size=self.batch_size)

    @property
    def provider(self) -> str:
        return self.runner.provider

    @property
    def device_note(self) -> str:
        return self.device.reason

    # ----- public API -------------------------------------------------------------------
    def embed_documents(self, texts: Sequence[TextLike]) -> np.ndarray:
        return self.embed_documents_with_info(texts).vectors

    def embed_query(self, text: TextLike) -> np.ndarray:
        # A query is someone waiting (search as you type, the chat's retrieval): it runs
        # beside a bulk embedding instead of queueing behind it. ORT sessions accept
        # concurrent runs; behind an ingest's batches a search waited 16 s on a busy CPU.
        return self._embed([text], self.manifest.query_prefix, interactive=True).vectors[0]

    def embed_documents_with_info(self, texts: Sequence[TextLike]) -> EmbedResult:
        return self._embed(texts, self.manifest.document_prefix)

    def cache_stats(self) -> dict[str, Any]:
        return self.cache.stats()

    def stats(self) -> dict[str, Any]:
        """Counters for the health pane."""
        with self._stats_lock:
            return {
                "model_id": self.model_id,
                "provider": self.provider,
                "device_note": self.device_note,
                "device": self.device.to_dict(),
                "threads": self.threads,
                "threads_note": self.threads_note,
                "batch_tokens": self.batch_tokens,
                "texts_embedded": self.texts_embedded,
                "batches_run": self.batches_run,
                "truncated_count": self.truncated_count,
                "last_batch_ms": self.last_batch_ms,
                "total_run_ms": self.total_run_ms,
                "cache": self.cache.stats(),
            }

    # ----- pipeline ---------------------------------------------------------------------
    def _prepare(self, text: TextLike, prefix: str) -> tuple[str, bytes, bool]:
        """Bound, decode and prefix one input; returns (text, utf-8 bytes, was cut)."""
        if isinstance(text, bytes | bytearray | memoryview):
            raw = bytes(text[: self.char_limit * 4])  # cut before decoding a huge blob
            cut = len(text) > len(raw)
            text = raw.decode("utf-8", errors="replace")
        elif isinstance(text, str):
            cut = False
        else:
            raise TypeError(f"expected str or bytes, got {type(text).__name__}")
        if len(text) > self.char_limit:
            text, cut = text[: self.char_limit], True
        text = prefix + text
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the tokenizer would refuse them
            data = text.encode("utf-8", errors="replace")
            text = data.decode("utf-8")
        return text, data, cut

    def _embed(
        self, texts: Sequence[TextLike], prefix: str, *, interactive: bool = False
    ) -> EmbedResult:
        if isinstance(texts, str | bytes):
            raise TypeError("expected a sequence of texts, got a single text")
        n = len(texts)
        out = np.empty((n, self.dim), dtype=np.float32)
        truncated = [False] * n
        todo: list[int] = []
        prepared: list[str] = []
        keys: list[tuple[str, bytes]] = []
        cut_flags: list[bool] = []
        for i, raw in enumerate(texts):
            text, data, cut = self._prepare(raw, prefix)
            key = (self.model_id, hashlib.sha1(data).digest())
            hit = self.cache.get(key)
            if hit is not None:
                out[i], truncated[i] = hit
                continue
            todo.append(i)
            prepared.append(text)
            keys.append(key)
            cut_flags.append(cut)
        if todo:
            encodings = self.tokenizer.encode_batch(prepared)
            seqs = [enc.ids or [self.pad_id] for enc in encodings]  # never zero tokens
            vectors = self._run_sorted(seqs, interactive=interactive)
            for j, i in enumerate(todo):
                out[i] = vectors[j]
                truncated[i] = cut_flags[j] or bool(encodings[j].overflowing)
                self.cache.put(keys[j], vectors[j], truncated[i])
        with self._stats_lock:
            self.texts_embedded += n
            self.truncated_count += sum(truncated)
        return EmbedResult(out, truncated)

    def _run_sorted(self, seqs: list[list[int]], *, interactive: bool = False) -> np.ndarray:
        """Run batches of similar length; return rows in the order of `seqs`."""
        result = np.empty((len(seqs), self.dim), dtype=np.float32)
        # The budget bounds host memory (the CPU arena); on CUDA the batch size already
        # comes from free VRAM and a measurement, unless the user set a budget.
        on_cuda = self.provider == CUDA and not self.batch_tokens_set
        budget = 1 << 62 if on_cuda else self.batch_tokens
        for idx in plan_batches([len(s) for s in seqs], self.batch_size, budget):
            with metrics.timer("embed"):  # per batch, for the Health pane's percentiles
                result[idx] = self.run_batch([seqs[i] for i in idx], interactive=interactive)
            metrics.count("embed.texts", len(idx))
        return result

    def pad(self, seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Pad token ids to the longest in the batch: (input_ids, attention_mask)."""
        width = max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        return ids, mask

    def make_feeds(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        """The inputs the graph declares, and only those (ORT rejects unknown names)."""
        feeds: dict[str, np.ndarray] = {}
        for name, dtype in self._opened.inputs.items():
            if name == "input_ids":
                value = ids
            elif name == "attention_mask":
                value = mask
            elif name == "token_type_ids":
                value = np.zeros_like(ids)
            else:  # position_ids; right padding, so positions simply count up
                value = np.broadcast_to(np.arange(ids.shape[1], dtype=np.int64), ids.shape)
            feeds[name] = value.astype(dtype, copy=False)
        return feeds

    def run_batch(self, seqs: Sequence[Sequence[int]], *, interactive: bool = False) -> np.ndarray:
        """Token ids of one batch -> pooled (and normalised) float32 rows. Bulk batches
        run one at a time (which also keeps their timings honest); an `interactive` one
        (a query) does not wait for them."""
        ids, mask = self.pad(seqs)
        feeds = self.make_feeds(ids, mask)
        with contextlib.nullcontext() if interactive else self._run_lock:
            t0 = time.perf_counter()
            hidden = self.runner.run(feeds)
            ms = (time.perf_counter() - t0) * 1000
        with self._stats_lock:
            self.batches_run += 1
            self.last_batch_ms = ms
            self.total_run_ms += ms
        if self._opened.output_rank == 3:
            vectors = pool(hidden, mask, self.manifest.pooling)
        else:  # the graph pools itself (e.g. a sentence_embedding output)
            vectors = hidden.astype(np.float32, copy=False)
        return l2_normalize(vectors) if self.manifest.normalize else vectors


def _max_token_id(tokenizer: Any) -> int:
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    return max(vocab.values()) if vocab else 0


def load_embedder(settings: Settings, model_id: str | None = None) -> Embedder:
    """Open, check and return the embedding model (default: settings.embedding.model)."""
    info = ModelRegistry(settings).get(model_id or settings.embedding.model)
    if info.problems:
        raise ModelError(f"model {info.id!r} cannot be used: {'; '.join(info.problems)}")
    manifest = info.manifest
    assert manifest is not None and info.model_file and info.tokenizer_file
    if manifest.kind != "embedding":
        raise ModelError(f"model {info.id!r} is a {manifest.kind}, not an embedding model")
    tokenizer = open_tokenizer(info.tokenizer_file)
    cfg = settings.embedding
    threads, threads_note = threads_for(cfg)
    opened, decision = select_session(info.model_file, cfg.device, threads, cfg.batch_size)
    if opened.output_dim is not None and opened.output_dim != manifest.dim:
        raise ModelError(_dim_mismatch(info, manifest.dim, opened.output_dim))
    tables = read_tables(info.model_file)
    max_id = _max_token_id(tokenizer)
    if tables.vocab_size is not None and max_id >= tables.vocab_size:
        raise ModelError(
            f"tokenizer does not match model {info.id!r}: {info.tokenizer_file.name} has token "
            f"ids up to {max_id} but the model's embedding table has {tables.vocab_size} rows"
        )
    max_length = min(manifest.max_length, cfg.max_length)
    if tables.positions:
        max_length = min(max_length, tables.positions)
    embedder = Embedder(
        info,
        manifest,
        opened,
        tokenizer,
        max_length=max_length,
        batch_size=cfg.batch_size,
        cache_size=cfg.cache_size,
        cache_bytes=int(cfg.cache_mb * 2**20),
        batch_tokens=cfg.batch_tokens,
        threads=(threads, threads_note),
        runner=DeviceRunner(opened, decision, lambda: open_session(info.model_file, threads, CPU)),
    )
    embedder.batch_tokens_set = "batch_tokens" in cfg.model_fields_set
    log.info(
        "embedding model %s on %s: %d intra-op threads (%s), batches of at most %d texts "
        "and %d padded tokens",
        info.id,
        opened.provider,
        threads,
        threads_note,
        cfg.batch_size,
        cfg.batch_tokens,
    )
    _probe(embedder, info, max_id, checked_vocab=tables.vocab_size is not None)
    if decision.provider == CUDA and "batch_size" not in cfg.model_fields_set:
        _size_gpu_batch(embedder, decision)
    return embedder


def _size_gpu_batch(embedder: Embedder, decision: DeviceDecision) -> None:
    """On CUDA, unless the user set a batch size: from free VRAM, capped by measurement."""
    cap = vram_batch(decision.vram_free)
    ids = embedder.tokenizer.encode("magray measures " * MEASURE_TOKENS).ids[:MEASURE_TOKENS]
    size, rates = measure_batch(embedder.run_batch, ids or [embedder.pad_id], cap)
    free = f"{decision.vram_free / 1e9:.1f} GB free" if decision.vram_free else "VRAM unknown"
    shown = ", ".join(f"{b}: {r:.0f}/s" for b, r in rates.items())
    embedder.batch_size = size
    embedder.runner.decision = replace(
        decision, batch_size=size, batch_note=f"{free} → up to {cap}; measured {shown}"
    )
    with embedder._stats_lock:  # the measurement is not user work
        embedder.batches_run = 0
        embedder.total_run_ms = embedder.last_batch_ms = 0.0


def _dim_mismatch(info: ModelInfo, want: int, got: int) -> str:
    return (
        f"model {info.id!r} produces {got}-d vectors but its manifest says dim = {want}; "
        "fix dim in the manifest"
    )


def _probe(embedder: Embedder, info: ModelInfo, max_id: int, *, checked_vocab: bool) -> None:
    """One tiny run: catches graphs that load but fail, and checks the real output width.

    The highest token id goes in too: on CPU an out-of-range id fails the Gather, which
    catches a mismatched tokenizer even where the table size could not be read.
    """
    ids = embedder.tokenizer.encode("").ids or [embedder.pad_id]
    try:
        vec = embedder.run_batch([[*ids[:1], max_id, *ids[1:]]])
    except Exception as exc:
        detail = first_line(exc)
        status = detail.split("Status Message: ", 1)[-1]
        if not checked_vocab and "out of" in status and "bounds" in status:
            raise ModelError(
                f"tokenizer does not match model {info.id!r}: token id {max_id} is outside "
                f"the model's embedding table ({status})"
            ) from None
        raise ModelError(f"model {info.id!r} failed a test run: {detail}") from None
    if vec.shape[-1] != embedder.dim:
        raise ModelError(_dim_mismatch(info, embedder.dim, int(vec.shape[-1])))
    with embedder._stats_lock:  # the probe is not user work
        embedder.batches_run = 0
        embedder.total_run_ms = embedder.last_batch_ms = 0.0
