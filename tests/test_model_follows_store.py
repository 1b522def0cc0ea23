"""A home made before the default embedding model changed opens on its own model (no
dimension or model mismatch); an explicit other setting opens on it too, with a re-embed to
the configured model pending (tests/test_memory_reembed.py runs it)."""

from __future__ import annotations

from magray_tui.ai import DEFAULT_MODEL_ID, PACKAGED_MODEL_ID
from magray_tui.config import load_settings
from magray_tui.memory import MemoryService


def test_an_older_home_keeps_its_model_when_the_default_changed(tmp_path) -> None:
    assert DEFAULT_MODEL_ID != PACKAGED_MODEL_ID
    old = load_settings(tmp_path, embedding={"model": PACKAGED_MODEL_ID})
    with MemoryService.open(settings=old) as svc:
        rid = svc.add("The staging database listens on port 5433.", layer="insights")
    default = load_settings(tmp_path)  # nothing set: the default is the new model
    assert default.embedding.model == DEFAULT_MODEL_ID
    with MemoryService.open(settings=default) as svc:
        assert svc.embedder.model_id == PACKAGED_MODEL_ID
        hits = svc.search("which port does staging use", k=1)
        assert hits and hits[0].record.id == rid
        new = svc.add("We deploy on Thursdays.", layer="insights")
        assert svc.search("when do we deploy", k=1)[0].record.id == new


def test_a_new_home_uses_the_default_model(tmp_path) -> None:
    with MemoryService.open(settings=load_settings(tmp_path)) as svc:
        assert svc.embedder.model_id == DEFAULT_MODEL_ID


def test_an_explicit_other_model_opens_on_the_stores_model_with_a_reembed_pending(
    tmp_path,
) -> None:
    with MemoryService.open(settings=load_settings(tmp_path)) as svc:
        rid = svc.add("The staging database listens on port 5433.", layer="insights")
    explicit = load_settings(tmp_path, embedding={"model": PACKAGED_MODEL_ID})
    with MemoryService.open(settings=explicit) as svc:  # no dimension or model refusal
        assert svc.embedder.model_id == DEFAULT_MODEL_ID
        status = svc.reembed_status()
        assert (status.pending, status.target_model, status.target_dim) == (
            True,
            PACKAGED_MODEL_ID,
            384,
        )
        assert svc.search("which port does staging use", k=1)[0].record.id == rid
