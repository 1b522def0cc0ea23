"""The embedder with real onnxruntime inference: the packaged model and tiny built graphs."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx  # dev dependency: builds the tiny test graphs
import pytest
from onnx import TensorProto, helper, numpy_helper

from magray_tui.ai import Embedder, ModelError, load_embedder
from magray_tui.ai.runtime import pool
from magray_tui.config import load_settings

WORDS = ["[PAD]", "[UNK]", "[CLS]", "q:", "d:", "a", "b", "c", "d", "e", "f", "g"]
VOCAB = {w: i for i, w in enumerate(WORDS)}
DIM = 6


# ----- tiny models the tests build themselves --------------------------------------------
def make_tokenizer(path: Path, vocab: dict[str, int] = VOCAB) -> None:
    """A WordLevel tokenizer that adds [CLS] in front and pads to a fixed 16, like the
    shipped one pads to 128: the embedder must undo that padding."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A", special_tokens=[("[CLS]", vocab["[CLS]"])]
    )
    tok.enable_padding(length=16, pad_id=0, pad_token="[PAD]")
    tok.enable_truncation(16)
    tok.save(str(path))


def make_graph(
    path: Path,
    table: np.ndarray,
    *,
    inputs: tuple[str, ...] = ("input_ids", "attention_mask"),
    out_dim: int | str | None = None,
    table_as_constant: bool = False,
) -> None:
    """last_hidden_state[b, s] = table[input_ids[b, s]]: pooled vectors are computable by hand."""
    graph_inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"]) for name in inputs
    ]
    dim = table.shape[1] if out_dim is None else out_dim
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "seq", dim]
    )
    table_name = "embeddings.word_embeddings.weight"
    tensor = numpy_helper.from_array(table.astype(np.float32), table_name)
    nodes = [helper.make_node("Gather", [table_name, "input_ids"], ["last_hidden_state"])]
    initializers = [tensor]
    if table_as_constant:  # hides the table size from the static check
        nodes.insert(0, helper.make_node("Constant", [], [table_name], value=tensor))
        initializers = []
    graph = helper.make_graph(nodes, "tiny", graph_inputs, [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def make_model_dir(
    home: Path,
    name: str,
    *,
    pooling: str = "mean",
    table: np.ndarray | None = None,
    manifest_extra: str = "",
    dim: int | None = None,
    **graph_kw: Any,
) -> tuple[Path, np.ndarray]:
    """A complete model folder in `home`'s models dir; returns it and its embedding table."""
    folder = home / "data" / "models" / name
    folder.mkdir(parents=True)
    if table is None:
        table = np.random.default_rng(7).normal(size=(len(WORDS), DIM)).astype(np.float32)
    make_graph(folder / "model.onnx", table, **graph_kw)
    make_tokenizer(folder / "tokenizer.json")
    (folder / "manifest.toml").write_text(
        f'kind = "embedding"\ndim = {dim or table.shape[1]}\npooling = "{pooling}"\n'
        f"max_length = 64\n{manifest_extra}",
        encoding="utf-8",
    )
    return folder, table


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def expected(table: np.ndarray, text: str, pooling: str) -> np.ndarray:
    ids = [VOCAB["[CLS]"]] + [VOCAB.get(w, VOCAB["[UNK]"]) for w in text.split()]
    rows = table[ids]
    vec = {"mean": rows.mean(0), "cls": rows[0], "last_token": rows[-1]}[pooling]
    return unit(vec)


# ----- pooling and padding on tiny graphs --------------------------------------------------
MIXED = ["a", "b c d e f g", "c a", "g f e d", "", "a b"]


@pytest.mark.parametrize("pooling", ["mean", "cls", "last_token"])
def test_pooling_matches_hand_computed_vectors(tmp_path: Path, pooling: str) -> None:
    _, table = make_model_dir(tmp_path, f"tiny-{pooling}", pooling=pooling)
    settings = load_settings(tmp_path, embedding={"batch_size": 4, "cache_size": 0})
    emb = load_embedder(settings, f"tiny-{pooling}")
    got = emb.embed_documents(MIXED)  # mixed lengths: padding inside every batch
    want = np.stack([expected(table, t, pooling) for t in MIXED])
    np.testing.assert_allclose(got, want, atol=1e-6)
    alone = np.stack([emb.embed_documents([t])[0] for t in MIXED])
    np.testing.assert_allclose(got, alone, atol=1e-6)


def test_pool_helper_handles_left_padding() -> None:
    hidden = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [0, 1, 1]])
    np.testing.assert_array_equal(pool(hidden, mask, "last_token"), hidden[[0, 1], [1, 2]])
    np.testing.assert_allclose(pool(hidden, mask, "mean")[1], hidden[1, 1:].mean(0))


def test_prefixes_and_only_declared_inputs(tmp_path: Path) -> None:
    _, table = make_model_dir(
        tmp_path,
        "tiny-prefix",
        inputs=("input_ids",),  # no attention_mask: feeding one would make ORT fail
        manifest_extra='query_prefix = "q: "\ndocument_prefix = "d: "\n',
    )
    emb = load_embedder(load_settings(tmp_path), "tiny-prefix")
    np.testing.assert_allclose(emb.embed_query("a b"), expected(table, "q: a b", "mean"), atol=1e-6)
    np.testing.assert_allclose(
        emb.embed_documents(["a b"])[0], expected(table, "d: a b", "mean"), atol=1e-6
    )
    # The same text as query and as document must not share a cache entry.
    assert not np.allclose(emb.embed_query("a b"), emb.embed_documents(["a b"])[0])


def test_tiny_model_reports_its_settings(tmp_path: Path) -> None:
    make_model_dir(tmp_path, "tiny")
    emb = load_embedder(load_settings(tmp_path), "tiny")
    assert (emb.model_id, emb.dim, emb.provider) == ("tiny", DIM, "CPUExecutionProvider")
    assert emb.max_length == 64  # the manifest's, below settings.embedding.max_length (256)


# ----- broken models give one readable ModelError -------------------------------------------
def test_missing_model_onnx(tmp_path: Path) -> None:
    folder, _ = make_model_dir(tmp_path, "gone")
    (folder / "model.onnx").unlink()
    with pytest.raises(ModelError, match=r"no model\.onnx in .*gone"):
        load_embedder(load_settings(tmp_path), "gone")


def test_corrupt_model_onnx(tmp_path: Path) -> None:
    folder, _ = make_model_dir(tmp_path, "noise")
    (folder / "model.onnx").write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ModelError, match=r"cannot load .*model\.onnx") as err:
        load_embedder(load_settings(tmp_path), "noise")
    assert "\n" not in str(err.value)


def test_corrupt_tokenizer(tmp_path: Path) -> None:
    folder, _ = make_model_dir(tmp_path, "badtok")
    (folder / "tokenizer.json").write_text('{"version": "1.0", "model": ', encoding="utf-8")
    with pytest.raises(ModelError, match=r"cannot read tokenizer .*tokenizer\.json"):
        load_embedder(load_settings(tmp_path), "badtok")


def test_tokenizer_vocab_larger_than_model_table(tmp_path: Path) -> None:
    small = np.ones((5, DIM), dtype=np.float32)  # ids 5.. have no row
    make_model_dir(tmp_path, "mismatch", table=small)
    with pytest.raises(ModelError, match="tokenizer does not match model") as err:
        load_embedder(load_settings(tmp_path), "mismatch")
    assert "5 rows" in str(err.value)


def test_vocab_mismatch_caught_by_test_run_when_table_is_hidden(tmp_path: Path) -> None:
    small = np.ones((5, DIM), dtype=np.float32)
    make_model_dir(tmp_path, "hidden", table=small, table_as_constant=True)
    with pytest.raises(ModelError, match="tokenizer does not match model"):
        load_embedder(load_settings(tmp_path), "hidden")


def test_bad_manifest_key(tmp_path: Path) -> None:
    folder, _ = make_model_dir(tmp_path, "typo", manifest_extra='poolin = "cls"\n')
    with pytest.raises(ModelError, match=r"manifest\.toml: poolin: unknown key"):
        load_embedder(load_settings(tmp_path), "typo")
    assert folder.exists()


@pytest.mark.parametrize("out_dim", [None, "dim"])  # declared shape, or only known by running
def test_dim_mismatch(tmp_path: Path, out_dim: str | None) -> None:
    make_model_dir(tmp_path, "wide", dim=DIM + 2, out_dim=out_dim)
    want = rf"produces {DIM}-d vectors but its manifest says dim = {DIM + 2}"
    with pytest.raises(ModelError, match=want):
        load_embedder(load_settings(tmp_path), "wide")


def test_reranker_is_not_an_embedder(tmp_path: Path) -> None:
    folder, _ = make_model_dir(tmp_path, "rr")
    text = (folder / "manifest.toml").read_text().replace('"embedding"', '"reranker"')
    (folder / "manifest.toml").write_text(text)
    with pytest.raises(ModelError, match="is a reranker"):
        load_embedder(load_settings(tmp_path), "rr")


def test_unknown_model_id(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model 'nope'.*all-minilm-l6-v2-int8"):
        load_embedder(load_settings(tmp_path), "nope")


# ----- the packaged model ------------------------------------------------------------------
TEXTS = [
    "I adopted a puppy from the shelter last weekend.",
    "Ok.",
    "My sister is getting married in June and I am planning the bachelorette party for her.",
    "The quarterly report shows revenue grew by twelve percent year over year.",
    "We went hiking in the mountains and saw a bear near the trail, which was scary.",
    "Thanks!",
    "Python lists keep their insertion order.",
    "",
    "She has been painting landscapes since she retired from teaching.",
]


# The packaged model and the default built from the original weights pass the same checks.
@pytest.fixture(scope="module", params=["all-minilm-l6-v2-int8", "all-minilm-l6-v2-qint8"])
def packaged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    home = tmp_path_factory.mktemp("home")
    return load_embedder(load_settings(home, embedding={"batch_size": 3}), request.param)


def test_packaged_vectors_are_unit_norm(packaged: Embedder, request: pytest.FixtureRequest) -> None:
    vecs = packaged.embed_documents(TEXTS)
    assert vecs.shape == (len(TEXTS), 384) and vecs.dtype == np.float32
    assert packaged.dim == 384 and packaged.model_id == request.node.callspec.params["packaged"]
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    q = packaged.embed_query("Where did they go hiking?")
    assert q.shape == (384,) and q.dtype == np.float32
    assert packaged.max_length == 256  # not the shipped tokenizer's fixed 128


def test_paraphrase_is_closer_than_unrelated(packaged: Embedder) -> None:
    a, para, other = packaged.embed_documents(
        [
            "The cat is sleeping on the sofa.",
            "A cat naps on the couch.",
            "Interest rates were raised by the central bank.",
        ]
    )
    assert a @ para > a @ other + 0.3


def test_batch_equals_one_by_one_and_order_is_kept(packaged: Embedder) -> None:
    packaged.cache.clear()
    batch = packaged.embed_documents(TEXTS)
    packaged.cache.clear()
    alone = np.stack([packaged.embed_documents([t])[0] for t in TEXTS])
    np.testing.assert_allclose(batch, alone, atol=1e-5)
    packaged.cache.clear()
    reversed_batch = packaged.embed_documents(TEXTS[::-1])
    np.testing.assert_allclose(reversed_batch[::-1], batch, atol=1e-5)


def test_long_text_uses_real_max_length(packaged: Embedder) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    result = packaged.embed_documents_with_info([words, "short"])
    assert result.truncated == [True, False]  # cut at 256 tokens, not 128
    lengths = [len(e.ids) for e in packaged.tokenizer.encode_batch([words, "short"])]
    assert lengths == [256, 3]


def test_cache_hit_rate_rises_on_repeats(packaged: Embedder) -> None:
    packaged.cache.clear()
    first = packaged.embed_documents(TEXTS)
    assert packaged.cache_stats()["hit_rate"] == 0.0
    again = packaged.embed_documents(TEXTS)
    stats = packaged.cache_stats()
    assert stats["hits"] == len(TEXTS) and stats["hit_rate"] == pytest.approx(0.5)
    assert stats["size"] == len(TEXTS) and stats["capacity"] == 20_000
    np.testing.assert_array_equal(first, again)
    again[0] += 1  # a caller's edits must not leak into the cache
    np.testing.assert_array_equal(packaged.embed_documents(TEXTS[:1])[0], first[0])


def test_empty_text_embeds(packaged: Embedder) -> None:
    vec = packaged.embed_documents([""])[0]
    assert np.isfinite(vec).all() and np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)
    assert packaged.embed_documents([]).shape == (0, 384)


def test_huge_text_is_cut_before_tokenizing(packaged: Embedder) -> None:
    huge = "memory " * (50_000_000 // 7)  # ~50 MB
    before = packaged.truncated_count
    t0 = time.perf_counter()
    result = packaged.embed_documents_with_info([huge])
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0  # tokenizing all 50 MB takes far longer
    assert result.truncated == [True] and packaged.truncated_count == before + 1
    head = packaged.embed_documents([huge[: packaged.char_limit]])[0]
    np.testing.assert_allclose(result.vectors[0], head, atol=1e-6)
    assert packaged.char_limit == 256 * 16
    big_bytes = huge.encode()
    assert packaged.embed_documents_with_info([big_bytes]).truncated == [True]


def test_invalid_utf8_bytes(packaged: Embedder) -> None:
    raw = b"caf\xc3 au lait \xff\xfe is \x80 good"
    vec = packaged.embed_documents([raw])[0]
    want = packaged.embed_documents([raw.decode("utf-8", errors="replace")])[0]
    np.testing.assert_array_equal(vec, want)
    lone_surrogate = packaged.embed_documents(["bad \udc80 text"])[0]
    assert np.isfinite(lone_surrogate).all()
    with pytest.raises(TypeError):
        packaged.embed_documents("not a list")


def test_threads_get_the_same_answers(tmp_path: Path) -> None:
    emb = load_embedder(load_settings(tmp_path, embedding={"cache_size": 0, "batch_size": 4}))
    want = emb.embed_documents(TEXTS)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(emb.embed_documents(TEXTS))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 12
    for got in results:
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert emb.stats()["batches_run"] == 13 * 3  # 9 texts in batches of 4
    assert emb.last_batch_ms > 0


def test_a_query_does_not_wait_behind_a_bulk_batch(embedder) -> None:
    """Search as you type during an ingest: the query embeds while a bulk batch holds the
    run (here: the bulk run lock held by this test), and gives the same vector as alone."""
    alone = embedder.embed_query("who owns the billing service")
    embedder.cache.clear()
    result: list[np.ndarray] = []
    with embedder._run_lock:  # a bulk batch in flight
        worker = threading.Thread(
            target=lambda: result.append(embedder.embed_query("who owns the billing service"))
        )
        worker.start()
        worker.join(30)
        assert result, "the query waited for the bulk batch"
    np.testing.assert_allclose(result[0], alone, atol=1e-5)
