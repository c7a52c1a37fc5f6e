"""Models on this machine: GGUFs in the Hugging Face cache and files the user added by path."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from s1desk import paths
from s1desk.errors import ModelLoadError, S1DeskError
from s1desk.models.download import hub_cache_dir
from s1desk.models.download_paths import inside
from s1desk.models.file_check import check_model_file, explain_open_error
from s1desk.models.gguf import read_gguf
from s1desk.models.naming import parse_gguf_name, split_part_names

log = logging.getLogger(__name__)

REGISTRY_FILE = "models.json"


@dataclass(frozen=True, slots=True)
class LocalModel:
    """One loadable model: ``path`` is the file to open (the first part of a split GGUF)."""

    path: Path
    size: int
    quantization: str
    architecture: str
    source: str  # "cache" or "added"
    repo_id: str | None = None
    parts: int = 1
    problem: str | None = None

    @property
    def name(self) -> str:
        return f"{self.repo_id}/{self.path.name}" if self.repo_id else self.path.name


def registry_path() -> Path:
    return paths.config_dir() / REGISTRY_FILE


def _registered() -> list[Path]:
    path = registry_path()
    if not path.is_file():
        return []
    try:
        return [Path(p) for p in json.loads(path.read_text("utf-8"))["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the model list %s: %s", path, exc)
        return []


def _save(files: list[Path]) -> None:
    path = registry_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"files": [str(p) for p in files]}, indent=1) + "\n", "utf-8")
    tmp.replace(path)


def describe(path: Path, source: str, repo_id: str | None = None) -> LocalModel:
    """Read the GGUF header; a damaged or missing file is listed with its problem."""
    parts = [path.with_name(n) for n in split_part_names(path.name)]
    size = sum(p.stat().st_size for p in parts if p.is_file())
    try:
        try:
            info = read_gguf(check_model_file(path))
        except OSError as exc:  # unreadable after the check, or a read error
            raise explain_open_error(path, exc) from exc
        missing = [p.name for p in parts if not p.exists()]
        problem = f"missing parts: {', '.join(missing)}" if missing else None
        return LocalModel(
            path, size, info.quantization, info.architecture, source, repo_id, len(parts), problem
        )
    except ModelLoadError as exc:
        quant = parse_gguf_name(path.name).quant or "unknown"
        return LocalModel(path, size, quant, "unknown", source, repo_id, len(parts), str(exc))


def _cached(cache_dir: Path) -> list[LocalModel]:
    from huggingface_hub import CacheNotFound, scan_cache_dir

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        for revision in repo.revisions:
            for f in revision.files:
                parsed = parse_gguf_name(f.file_name)
                if not f.file_name.lower().endswith(".gguf") or parsed.part != 1:
                    continue
                path = Path(f.file_path)
                if not inside(repo.repo_path / "blobs", path) and path.is_symlink():
                    found.append(_outside(path, repo.repo_id))
                else:
                    found.append(describe(path, "cache", repo.repo_id))
    return found


def _outside(path: Path, repo_id: str) -> LocalModel:
    """A cache entry whose link leads out of the cache: listed, never read or loaded."""
    target = os.path.realpath(path)
    log.warning("%s links outside the Hugging Face cache, to %s: not used", path, target)
    problem = f"links outside the Hugging Face cache (to {target}); not used"
    quant = parse_gguf_name(path.name).quant or "unknown"
    return LocalModel(path, 0, quant, "unknown", "cache", repo_id, problem=problem)


def list_local_models(cache_dir: Path | None = None) -> list[LocalModel]:
    """Every GGUF in the Hugging Face cache and every file added by path."""
    models = _cached(cache_dir or hub_cache_dir())
    seen = {m.path.resolve() for m in models}
    for path in _registered():
        if path.resolve() not in seen:
            if path.exists():
                models.append(describe(path, "added"))
            else:
                models.append(
                    LocalModel(path, 0, "unknown", "unknown", "added", problem="file not found")
                )
    return models


def add_model(path: Path) -> LocalModel:
    """Remember a GGUF from anywhere on disk (it is checked, not copied)."""
    path = Path(path).expanduser().resolve()
    try:
        info = read_gguf(check_model_file(path))  # raises ModelLoadError with a plain message
    except OSError as exc:
        raise explain_open_error(path, exc) from exc
    files = _registered()
    if path not in files:
        files.append(path)
        _save(files)
    log.info("added %s (%s)", path, info.quantization)
    return describe(path, "added")


def remove_model(model: LocalModel, cache_dir: Path | None = None) -> list[Path]:
    """Delete a cached model (all its parts, blobs included) or forget an added one.

    Files added by path are only forgotten, never deleted: they belong to the user.
    Only links inside the Hugging Face cache are removed, and only blobs in their
    repository's ``blobs/`` folder: a link that leads elsewhere (a crafted ETag
    once made one) is removed, never what it points at. Returns what was deleted.
    """
    if model.source == "added":
        _save([p for p in _registered() if p != model.path])
        return []
    cache = cache_dir or hub_cache_dir()
    repo_dir = _repo_dir(model.path)
    if repo_dir is None or not inside(cache, repo_dir):
        raise S1DeskError(
            f"{model.path} is not in the Hugging Face cache {cache}; it was not deleted."
        )
    snapshots = repo_dir / "snapshots"
    deleted: list[Path] = []
    for name in split_part_names(model.path.name):
        link = model.path.with_name(name)
        if not link.exists() and not link.is_symlink():
            continue
        if not inside(snapshots, link.parent):
            log.warning("not deleting %s: its folder leads outside %s", link, snapshots)
            continue
        target = link.resolve()
        link.unlink()
        deleted.append(link)
        if target == link or not target.exists():
            continue
        if not inside(repo_dir / "blobs", target):
            log.warning(
                "%s pointed outside the cache, at %s: that file is left alone", link, target
            )
            continue
        if not _still_linked(target, model.path):
            target.unlink()
            deleted.append(target)
    return deleted


def _repo_dir(path: Path) -> Path | None:
    """The ``models--owner--name`` folder that holds ``path``."""
    return next((p for p in path.parents if p.name.startswith("models--")), None)


def _still_linked(blob: Path, near: Path) -> bool:
    """Whether another snapshot of the same repository still points at ``blob``."""
    repo_dir = _repo_dir(near)
    if repo_dir is None:
        return False
    return any(
        link.is_symlink() and link.resolve() == blob for link in (repo_dir / "snapshots").rglob("*")
    )


def find_model(name: str, models: list[LocalModel]) -> LocalModel:
    """The model whose name, file name or path matches ``name``."""
    hits = [m for m in models if name in (m.name, m.path.name, str(m.path))]
    if not hits:
        hits = [m for m in models if name.lower() in m.name.lower()]
    if len(hits) != 1:
        listed = ", ".join(m.name for m in hits) if hits else "none"
        raise S1DeskError(f"{name!r} matches {len(hits)} local models ({listed}).")
    return hits[0]
