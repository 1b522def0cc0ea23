"""The small manifest that tells magray how to use an ONNX model folder.

A folder under a models dir holds `model.onnx`, `tokenizer.json` and `manifest.toml`
(or `manifest.json`). The manifest says what the graph's output means (kind, dim, pooling)
and how texts are prepared (max length, query/document prefixes); see models/README.md.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from magray_tui.errors import MagrayError

MANIFEST_NAMES = ("manifest.toml", "manifest.json")


class ModelError(MagrayError):
    """A model that cannot be used; the message is one readable line (shown as is)."""


class ModelManifest(BaseModel):
    """What a model is and how to feed it. Unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["embedding", "reranker"] = "embedding"
    dim: int = Field(..., ge=1, le=65_536, description="width of the output vectors")
    pooling: Literal["mean", "cls", "last_token"] = "mean"
    max_length: int = Field(512, ge=8, le=1_000_000, description="tokens, special ones included")
    query_prefix: str = ""
    document_prefix: str = ""
    normalize: bool = True
    name: str = ""
    description: str = ""


def find_manifest(folder: Path) -> Path | None:
    for name in MANIFEST_NAMES:
        path = folder / name
        if path.is_file():
            return path
    return None


def _explain(exc: ValidationError, path: Path) -> str:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first.get("loc", ())) or "?"
    msg = "unknown key" if first.get("type") == "extra_forbidden" else first.get("msg", "invalid")
    if first.get("type") == "missing":
        msg = "required key is missing"
    got = first.get("input")
    if first.get("type") not in ("missing", "extra_forbidden") and not isinstance(got, dict):
        msg += f" (got {got!r})"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    return f"invalid manifest {path}: {key}: {msg}{tail}"


def load_manifest(path: Path) -> ModelManifest:
    """Read and validate one manifest file; any problem is a one-line ModelError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"invalid manifest {path}: the file is not UTF-8 text") from None
    except OSError as exc:
        raise ModelError(f"cannot read manifest {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"invalid manifest {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"invalid manifest {path}: expected a table of keys")
    try:
        return ModelManifest.model_validate(data)
    except ValidationError as exc:
        raise ModelError(_explain(exc, path)) from None
