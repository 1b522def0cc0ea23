"""A home made before the default embedding model changed opens on its own model (no
dimension or model mismatch); an explicit setting still wins and is refused in one line."""

from __future__ import annotations

import pytest

from magray_tui.ai import DEFAULT_MODEL_ID, PACKAGED_MODEL_ID
from magray_tui.config import load_settings
from magray_tui.memory import MemoryError_, MemoryService


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


def test_an_explicit_other_model_is_still_refused_in_one_line(tmp_path) -> None:
    with MemoryService.open(settings=load_settings(tmp_path)) as svc:
        svc.add("a note", layer="insights")
    explicit = load_settings(tmp_path, embedding={"model": PACKAGED_MODEL_ID})
    with pytest.raises(MemoryError_) as caught:
        MemoryService.open(settings=explicit)
    message = str(caught.value)
    assert f"embedded with {DEFAULT_MODEL_ID}" in message and "\n" not in message
