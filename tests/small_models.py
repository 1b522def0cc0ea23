"""Small embedding models built by the tests: a random BERT of any width written with
`ai.bert_onnx.bert_graph`, with the packaged model's tokenizer, in a models-dir folder with
a manifest, so the registry and `load_embedder` treat it like any user's model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from magray_tui.ai.bert_onnx import BertConfig, bert_graph
from magray_tui.ai.registry import packaged_model

VOCAB = 30522  # the packaged tokenizer's vocabulary
POSITIONS = 512


def random_bert(cfg: BertConfig, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, f = cfg.hidden, cfg.intermediate

    def r(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(VOCAB, h),
        "embeddings.position_embeddings.weight": r(POSITIONS, h),
        "embeddings.token_type_embeddings.weight": r(2, h),
        "embeddings.LayerNorm.weight": np.ones(h, np.float32),
        "embeddings.LayerNorm.bias": np.zeros(h, np.float32),
    }
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."
        for k in ("query", "key", "value"):
            w[f"{p}attention.self.{k}.weight"] = r(h, h)
            w[f"{p}attention.self.{k}.bias"] = r(h)
        w[f"{p}attention.output.dense.weight"] = r(h, h)
        w[f"{p}attention.output.dense.bias"] = r(h)
        w[f"{p}intermediate.dense.weight"] = r(f, h)
        w[f"{p}intermediate.dense.bias"] = r(f)
        w[f"{p}output.dense.weight"] = r(h, f)
        w[f"{p}output.dense.bias"] = r(h)
        for part in ("attention.output", "output"):
            w[f"{p}{part}.LayerNorm.weight"] = np.ones(h, np.float32)
            w[f"{p}{part}.LayerNorm.bias"] = np.zeros(h, np.float32)
    return w


def write_small_model(models_dir: Path, name: str, hidden: int = 64, seed: int = 0) -> Path:
    """A `models_dir/name/` folder (model.onnx, tokenizer.json, manifest.toml) of a 2-layer
    BERT `hidden` wide with random weights: a real model of another width, in milliseconds."""
    import onnx

    cfg = BertConfig(hidden=hidden, heads=4, layers=2, intermediate=2 * hidden)
    folder = models_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(bert_graph(random_bert(cfg, seed), cfg), str(folder / "model.onnx"))
    tokenizer = packaged_model().tokenizer_file
    assert tokenizer is not None
    (folder / "tokenizer.json").write_bytes(tokenizer.read_bytes())
    (folder / "manifest.toml").write_text(
        f'kind = "embedding"\ndim = {hidden}\npooling = "mean"\nmax_length = 128\n',
        encoding="utf-8",
    )
    return folder
