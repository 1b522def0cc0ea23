"""The seams of the memory core. Today's implementations: `ai.Embedder` (ONNX),
`vector_index.VectorIndex` (hnswlib), `keyword_index.KeywordIndex` (tantivy) and
`repository.MemoryRepository` (DuckDB). A server-side backend (pgvector, PostgreSQL full
text) is a second implementation of these, not a fork."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from magray_tui.memory.records import Filters, Layer, Record


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[Any]) -> np.ndarray: ...

    def embed_query(self, text: Any) -> np.ndarray: ...


class VectorIndexProtocol(Protocol):
    """Approximate nearest neighbours by cosine over record seqs, with a watermark: the
    store revision its contents reflect."""

    watermark: int

    def __len__(self) -> int: ...

    def add(self, labels: Sequence[int], vectors: np.ndarray) -> None: ...

    def remove(self, labels: Sequence[int]) -> None: ...

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: Callable[[int], bool] | None = None,
        allowed_count: int | None = None,
    ) -> list[tuple[int, float]]: ...

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


class KeywordIndexProtocol(Protocol):
    """BM25 over record text and tags, filtered by the record fields it keeps."""

    watermark: int
    read_only: bool

    def __len__(self) -> int: ...

    def upsert(self, records: Sequence[Record]) -> None: ...

    def remove(self, seqs: Sequence[int]) -> None: ...

    def commit(self, watermark: int) -> None: ...

    def search(
        self, query: str, k: int, filters: Filters | None = None, *, prefix: bool = False
    ) -> list[tuple[int, float]]: ...


class Repository(Protocol):
    """Reads of memory rows (writes go through `commit.Committer`)."""

    def get(self, ref: str, *, include_forgotten: bool = True) -> Record: ...

    def get_many(self, seqs: Sequence[int]) -> dict[int, Record]: ...

    def existing_ids(self, ids: Sequence[str]) -> set[str]: ...

    def list(
        self, filters: Filters, *, order: str = ..., limit: int = ..., offset: int = ...
    ) -> list[Record]: ...

    def iter_records(self, filters: Filters, batch: int = ...) -> Iterable[Record]: ...

    def allowed_seqs(self, filters: Filters) -> np.ndarray: ...

    def vectors_for(self, seqs: Sequence[int]) -> np.ndarray: ...

    def counts(self) -> dict[str, int]: ...

    def live_count(self) -> int: ...

    def max_rev(self) -> int: ...

    def iter_changes(
        self, after_rev: int, batch: int = ...
    ) -> Iterator[tuple[np.ndarray, list[Record], np.ndarray]]: ...

    def purged_since(self, after_rev: int) -> list[int]: ...

    def history(self, record_id: str) -> list[dict[str, Any]]: ...

    def superseded_by_ids(self, ids: Sequence[str]) -> list[Record]: ...

    def find_by_hash(self, content_hash: str, layer: Layer) -> Record | None: ...

    def feature_rows(self, now: datetime, seqs: Sequence[int] | None = None) -> dict[str, Any]: ...
