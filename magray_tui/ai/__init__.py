"""Embedding layer: model registry, manifests and the onnxruntime embedder.

Imports stay light here: onnxruntime and tokenizers load only when a model is opened.
"""

from magray_tui.ai.embedder import Embedder, EmbedResult, load_embedder
from magray_tui.ai.manifest import ModelError, ModelManifest
from magray_tui.ai.registry import (
    DEFAULT_MODEL_ID,
    PACKAGED_MODEL_ID,
    ModelInfo,
    ModelRegistry,
    model_for_store,
)

__all__ = [
    "DEFAULT_MODEL_ID",
    "PACKAGED_MODEL_ID",
    "EmbedResult",
    "Embedder",
    "ModelError",
    "ModelInfo",
    "ModelManifest",
    "ModelRegistry",
    "load_embedder",
    "model_for_store",
]
