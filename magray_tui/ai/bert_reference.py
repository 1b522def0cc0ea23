"""A BERT encoder in plain numpy (float64): the yardstick a built graph is checked against."""

from __future__ import annotations

import numpy as np

from magray_tui.ai.bert_onnx import BertConfig


def reference_forward(
    weights: dict[str, np.ndarray], cfg: BertConfig, ids: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Hidden states [batch, seq, hidden] for token ids and a 0/1 mask (token type 0)."""
    from math import erf, sqrt

    w = {k: v.astype(np.float64) for k, v in weights.items()}
    gelu = np.vectorize(lambda v: 0.5 * v * (1.0 + erf(v / sqrt(2.0))))

    def ln(v: np.ndarray, prefix: str) -> np.ndarray:
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + cfg.eps) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]

    def dense(v: np.ndarray, prefix: str) -> np.ndarray:
        return v @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]

    batch, seq = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids]
    x = (
        x
        + w["embeddings.position_embeddings.weight"][:seq]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = ln(x, "embeddings.LayerNorm")
    head = cfg.hidden // cfg.heads
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9)
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."

        def heads(v: np.ndarray) -> np.ndarray:
            return v.reshape(batch, seq, cfg.heads, head).transpose(0, 2, 1, 3)

        q, k, v = (heads(dense(x, f"{p}attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        ctx = (scores / scores.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(0, 2, 1, 3).reshape(batch, seq, cfg.hidden)
        x = ln(dense(ctx, f"{p}attention.output.dense") + x, f"{p}attention.output.LayerNorm")
        up = gelu(dense(x, f"{p}intermediate.dense"))
        x = ln(dense(up, f"{p}output.dense") + x, f"{p}output.LayerNorm")
    return x
