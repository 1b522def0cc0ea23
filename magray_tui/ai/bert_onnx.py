"""Write a BERT encoder as an ONNX graph of onnxruntime's fused ops, straight from weights.

No torch: the tensors come from a safetensors file (read with numpy) and the graph is
written with `onnx.helper`. Each layer is the fused form onnxruntime's own transformer
optimizer produces — `EmbedLayerNormalization`, `Attention`, `SkipLayerNormalization`,
`BiasGelu` — so the CPU runs a handful of big kernels per layer. With `int8=True` every
weight product is a real integer kernel (u8·s8 `MatMulIntegerToFloat`, per-token activation
ranges) instead of the weight-only Cast → Mul → fp32 MatMul of the packaged model. The
numpy reference it is checked against is in `bert_reference.py`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

MS_DOMAIN = "com.microsoft"
OPSET = 17
IR_VERSION = 8  # opset 17 needs IR 8; onnxruntime 1.31 reads up to 13
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


@dataclass(frozen=True)
class BertConfig:
    """The few numbers of a Hugging Face BertConfig the graph needs."""

    hidden: int
    heads: int
    layers: int
    intermediate: int
    eps: float = 1e-12

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BertConfig:
        if data.get("model_type") != "bert" or data.get("hidden_act") != "gelu":
            raise ValueError("only BERT models with erf GELU are supported")
        return cls(
            hidden=int(data["hidden_size"]),
            heads=int(data["num_attention_heads"]),
            layers=int(data["num_hidden_layers"]),
            intermediate=int(data["intermediate_size"]),
            eps=float(data.get("layer_norm_eps", 1e-12)),
        )


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Tensors of a safetensors file (8-byte header length, JSON header, raw bytes)."""
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    tensors: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise ValueError(f"unsupported tensor dtype {meta['dtype']} for {name}")
        start, end = meta["data_offsets"]
        array = np.frombuffer(
            data, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize, offset=base + start
        )
        tensors[name.removeprefix("bert.")] = array.reshape(meta["shape"]).astype(np.float32)
    return tensors


class _Builder:
    """Collects initializers and nodes; names stay readable for debugging and exclusion."""

    def __init__(self, int8: bool = False) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.int8 = int8
        self._consts: set[str] = set()

    def weight(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(
        self, op: str, inputs: list[str], name: str, domain: str = "", extra: int = 0, **attrs: Any
    ) -> str:
        """Add a node; returns its first output (`extra` more outputs are declared, unused)."""
        from onnx import helper

        outs = [f"{name}_out", *(f"{name}_out{k}" for k in range(1, extra + 1))]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, domain=domain, **attrs))
        return outs[0]

    def const(self, name: str, value: np.ndarray | np.generic) -> str:
        """A small shared constant (added once, whatever number of users)."""
        if name not in self._consts:
            self._consts.add(name)
            self.weight(name, np.asarray(value))
        return name


def matmul_weights(weights: dict[str, np.ndarray], cfg: BertConfig) -> dict[str, np.ndarray]:
    """Node name -> its [in, out] weight, as the graph multiplies it."""
    out: dict[str, np.ndarray] = {}
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."
        out[f"l{i}_attention"] = np.concatenate(
            [weights[f"{p}attention.self.{k}.weight"].T for k in ("query", "key", "value")], axis=1
        )
        out[f"l{i}_attn_out"] = weights[f"{p}attention.output.dense.weight"].T
        out[f"l{i}_ffn_up"] = weights[f"{p}intermediate.dense.weight"].T
        out[f"l{i}_ffn_down"] = weights[f"{p}output.dense.weight"].T
    return out


def _matmul(b: _Builder, x: str, weight: np.ndarray, name: str) -> str:
    """x @ weight: fp32 MatMul, or int8 with per-token activation and per-column weight scales.

    onnxruntime's dynamic quantisation scales a whole activation tensor at once, so one
    token's outlier channels coarsen every other token (measured: top-10 neighbour overlap
    0.86). Here each token row gets its own asymmetric range. The integer kernel takes only
    a scalar zero point, so each row's zero point is taken out after the product (times the
    weight's column sums).
    """
    if not b.int8:
        return b.node("MatMul", [x, b.weight(f"{name}_w", weight)], name)
    w_scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
    w_q = np.clip(np.rint(weight / w_scale), -127, 127).astype(np.int8)
    k, n = weight.shape
    c = b.const
    # One row per token: x ≈ scale·(q - zp) with q in 0..255 (the range includes 0).
    rows = b.node("Reshape", [x, c(f"{name}_2d", np.array([-1, k], np.int64))], f"{name}_rows")
    lo = b.node(
        "Min",
        [
            b.node("ReduceMin", [rows], f"{name}_lo0", axes=[1], keepdims=0),
            c("zero", np.float32(0)),
        ],
        f"{name}_lo",
    )
    hi = b.node(
        "Max",
        [
            b.node("ReduceMax", [rows], f"{name}_hi0", axes=[1], keepdims=0),
            c("zero", np.float32(0)),
        ],
        f"{name}_hi",
    )
    span = b.node(
        "Max",
        [b.node("Sub", [hi, lo], f"{name}_span0"), c("eps", np.float32(1e-8))],
        f"{name}_span",
    )
    scale = b.node("Div", [span, c("f255", np.float32(255))], f"{name}_scale")
    zp = b.node(
        "Round",
        [b.node("Div", [b.node("Neg", [lo], f"{name}_neg"), scale], f"{name}_zp0")],
        f"{name}_zp",
    )
    zp_u8 = b.node("Cast", [zp], f"{name}_zp_u8", to=2)  # UINT8; zp is in 0..255 already
    q = b.node("QuantizeLinear", [rows, scale, zp_u8], f"{name}_q", axis=0)
    # (q·Wq)·w_scale in one kernel, then ·scale per row, minus scale·zp·colsum(W) per row.
    y = b.node(
        "MatMulIntegerToFloat",
        [
            q,
            b.weight(f"{name}_wq", w_q),
            c("one", np.float32(1)),
            b.weight(f"{name}_wscale", w_scale.astype(np.float32)),
        ],
        f"{name}_int",
        MS_DOMAIN,
    )
    axis1 = c("axis1", np.array([1], np.int64))
    y = b.node("Mul", [y, b.node("Unsqueeze", [scale, axis1], f"{name}_rs")], f"{name}_row")
    shift = b.node("Unsqueeze", [b.node("Mul", [scale, zp], f"{name}_sz"), axis1], f"{name}_sh")
    colsum = (w_q.astype(np.float64).sum(axis=0) * w_scale).astype(np.float32)
    offset = b.node("Mul", [shift, b.weight(f"{name}_colsum", colsum)], f"{name}_offset")
    y = b.node("Sub", [y, offset], f"{name}_y")
    lead = b.node(
        "Slice",
        [
            b.node("Shape", [x], f"{name}_shape"),
            c("s0", np.array([0], np.int64)),
            c("s2", np.array([2], np.int64)),
        ],
        f"{name}_lead",
    )
    shape = b.node(
        "Concat", [lead, c(f"n{n}", np.array([n], np.int64))], f"{name}_outshape", axis=0
    )
    return b.node("Reshape", [y, shape], name)


def bert_graph(
    weights: dict[str, np.ndarray],
    cfg: BertConfig,
    *,
    int8: bool = False,
) -> Any:
    """The ModelProto: inputs input_ids, attention_mask (int32), output last_hidden_state.

    `int8` makes every weight product an integer kernel (see `_matmul`).
    """
    from onnx import TensorProto, helper

    b = _Builder(int8)
    w = weights
    # Token type 0 for every token (single-sentence embedding): fold its row into positions.
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = b.node(
        "EmbedLayerNormalization",
        [
            "input_ids",
            "",
            b.weight("word_embeddings", w["embeddings.word_embeddings.weight"]),
            b.weight("position_embeddings", positions),
            "",
            b.weight("embeddings_ln_gamma", w["embeddings.LayerNorm.weight"]),
            b.weight("embeddings_ln_beta", w["embeddings.LayerNorm.bias"]),
        ],
        "embeddings",
        MS_DOMAIN,
        extra=1,  # mask_index: the schema requires it; Attention takes the raw mask instead
        epsilon=cfg.eps,
    )
    products = matmul_weights(w, cfg)
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}."
        qkv_b = np.concatenate(
            [w[f"{p}attention.self.{k}.bias"] for k in ("query", "key", "value")]
        )
        attn = _attention(b, x, products[f"l{i}_attention"], qkv_b, cfg, f"l{i}_attention")
        proj = _matmul(b, attn, products[f"l{i}_attn_out"], f"l{i}_attn_out")
        x = _skip_ln(b, proj, x, w, f"{p}attention.output", f"l{i}_attn_ln", cfg.eps)
        up = _matmul(b, x, products[f"l{i}_ffn_up"], f"l{i}_ffn_up")
        act = b.node(
            "BiasGelu",
            [up, b.weight(f"l{i}_ffn_up_b", w[f"{p}intermediate.dense.bias"])],
            f"l{i}_gelu",
            MS_DOMAIN,
        )
        down = _matmul(b, act, products[f"l{i}_ffn_down"], f"l{i}_ffn_down")
        x = _skip_ln(b, down, x, w, f"{p}output", f"l{i}_ffn_ln", cfg.eps)
    b.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        b.nodes,
        "bert_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT32, dims),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT32, dims),
        ],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, [*dims, cfg.hidden]
            )
        ],
        b.inits,
    )
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="magray")
    model.ir_version = IR_VERSION  # what onnxruntime reads, not the newest `onnx` writes
    return model


def _attention(
    b: _Builder, x: str, qkv_w: np.ndarray, qkv_b: np.ndarray, cfg: BertConfig, name: str
) -> str:
    """Self-attention: one fused kernel in fp32; in int8, an int8 QKV product feeding the
    fp32 MultiHeadAttention kernel (scores and softmax stay in fp32)."""
    if not b.int8:
        inputs = [x, b.weight(f"{name}_w", qkv_w), b.weight(f"{name}_b", qkv_b), "attention_mask"]
        return b.node("Attention", inputs, name, MS_DOMAIN, num_heads=cfg.heads)
    qkv = _matmul(b, x, qkv_w, f"{name}_qkv")
    from onnx import helper

    parts = [f"{name}_{k}" for k in "qkv"]
    sizes = b.weight(f"{name}_sizes", np.array([cfg.hidden] * 3, dtype=np.int64))
    b.nodes.append(helper.make_node("Split", [qkv, sizes], parts, name=f"{name}_split", axis=-1))
    inputs = [*parts, b.weight(f"{name}_b", qkv_b), "attention_mask"]
    return b.node("MultiHeadAttention", inputs, name, MS_DOMAIN, num_heads=cfg.heads)


def _skip_ln(b: _Builder, value: str, skip: str, w: dict, prefix: str, name: str, eps: float):
    """LayerNorm(value + bias + skip) in one kernel."""
    return b.node(
        "SkipLayerNormalization",
        [
            value,
            skip,
            b.weight(f"{name}_gamma", w[f"{prefix}.LayerNorm.weight"]),
            b.weight(f"{name}_beta", w[f"{prefix}.LayerNorm.bias"]),
            b.weight(f"{name}_bias", w[f"{prefix}.dense.bias"]),
        ],
        name,
        MS_DOMAIN,
        epsilon=eps,
    )
