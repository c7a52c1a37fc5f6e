"""Local models: the HF cache and added files, listed from their GGUF headers; add and delete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from s1desk.errors import ModelLoadError
from s1desk.models.download import DownloadRequest, download
from s1desk.models.local import add_model, find_model, list_local_models, remove_model
from support.hub_fixtures import MODEL_FILE, REPO
from support.hub_server import HubState


def test_cached_and_added_models_are_listed_with_their_quantization(
    hub_state: HubState, hf_env: Path, model_path: Path, tmp_path: Path
) -> None:
    assert list_local_models() == []
    cached = download(DownloadRequest(REPO, (MODEL_FILE,)))
    added = add_model(model_path)
    models = list_local_models()
    by_source = {m.source: m for m in models}
    assert by_source["cache"].path == cached
    assert by_source["cache"].repo_id == REPO
    assert by_source["cache"].quantization == "Q4_K_M"
    assert by_source["cache"].architecture == "qwen2"
    assert by_source["cache"].size == model_path.stat().st_size
    assert by_source["added"].path == added.path == model_path.resolve()
    assert by_source["added"].problem is None


def test_adding_a_file_that_is_not_a_gguf_is_refused(hf_env: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("hello")
    with pytest.raises(ModelLoadError, match="not a GGUF"):
        add_model(bogus)
    assert list_local_models() == []


def test_removing_a_cached_model_deletes_its_blob_and_an_added_one_is_only_forgotten(
    hub_state: HubState, hf_env: Path, model_path: Path, tmp_path: Path
) -> None:
    download(DownloadRequest(REPO, (MODEL_FILE,)))
    copy = tmp_path / "mine.gguf"
    shutil.copyfile(model_path, copy)
    add_model(copy)
    models = list_local_models()
    cached = find_model(MODEL_FILE, models)
    blob = cached.path.resolve()
    deleted = remove_model(cached)
    assert cached.path in deleted
    assert blob in deleted
    assert not blob.exists()
    mine = find_model("mine.gguf", list_local_models())
    assert remove_model(mine) == []
    assert copy.exists()
    assert list_local_models() == []


def test_split_gguf_is_one_model_with_its_parts(
    hf_env: Path, model_path: Path, tmp_path: Path
) -> None:
    first = tmp_path / "s1-test-Q4_K_M-00001-of-00002.gguf"
    shutil.copyfile(model_path, first)
    add_model(first)
    [model] = list_local_models()
    assert model.parts == 2
    assert model.problem is not None
    assert "00002-of-00002" in model.problem
