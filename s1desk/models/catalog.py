"""The catalog of s1 GGUF builds: models, their hub repositories, quantizations and files.

The data lives in ``catalog.json`` beside this module (add a model or a
repository there). ``refresh_catalog`` replaces each repository's file list with
the hub's own listing (names, sizes, sha256) and keeps the result in the user's
config directory, which then takes precedence over the packaged file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from s1desk import paths
from s1desk.errors import S1DeskError
from s1desk.models.architecture import Architecture
from s1desk.models.naming import parse_gguf_name

log = logging.getLogger(__name__)

USER_FILE = "catalog.json"

#: Bits per weight, all tensors included, that llama.cpp's quantization mixes
#: reach on Qwen2.5 models; used only to estimate sizes not yet known.
BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K_L": 6.7, "Q6_K": 6.56,
    "Q5_K_L": 5.85, "Q5_K_M": 5.68, "Q5_K_S": 5.53, "Q5_0": 5.5, "Q4_K_L": 5.0,
    "Q4_K_M": 4.85, "Q4_K_S": 4.59, "Q4_0": 4.55, "IQ4_NL": 4.55, "IQ4_XS": 4.32,
    "Q3_K_XL": 4.4, "Q3_K_L": 4.21, "Q3_K_M": 3.89, "IQ3_M": 3.62, "Q3_K_S": 3.5,
    "IQ3_XS": 3.4, "IQ3_XXS": 3.2, "Q2_K_L": 3.2, "Q2_K": 3.0, "IQ2_M": 2.75,
    "IQ2_S": 2.55, "IQ2_XS": 2.45, "IQ2_XXS": 2.25,
}  # fmt: skip


class CatalogError(S1DeskError):
    """The catalog file is unreadable, or names something it does not hold."""


@dataclass(frozen=True, slots=True)
class CatalogFile:
    """One file on the hub. ``estimated``: the size is computed, not read from the hub."""

    name: str
    size: int
    estimated: bool
    sha256: str | None = None
    listed: bool = False


@dataclass(frozen=True, slots=True)
class Quantization:
    """One quantization of a model in one repository: one file, or the parts of a split GGUF."""

    model_id: str
    repo_id: str
    quant: str
    files: tuple[CatalogFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def estimated(self) -> bool:
        return any(f.estimated for f in self.files)

    @property
    def filenames(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)

    @property
    def bits_per_weight(self) -> float:
        return BITS_PER_WEIGHT.get(self.quant.removeprefix("i1-"), 16.0)

    @property
    def label(self) -> str:
        return f"{self.model_id} {self.quant}"


@dataclass(frozen=True, slots=True)
class CatalogRepo:
    repo_id: str
    quantizations: tuple[Quantization, ...]
    refreshed: bool = False


@dataclass(frozen=True, slots=True)
class CatalogModel:
    id: str
    base_model: str
    description: str
    params: int
    architecture: Architecture
    repos: tuple[CatalogRepo, ...]
    #: The thinking format the model speaks (see :mod:`s1desk.thinking.formats`).
    format: str = "s1"

    @property
    def quantizations(self) -> tuple[Quantization, ...]:
        return tuple(q for r in self.repos for q in r.quantizations)


@dataclass(frozen=True, slots=True)
class Catalog:
    models: tuple[CatalogModel, ...]

    def model(self, model_id: str) -> CatalogModel:
        for m in self.models:
            if m.id.lower() == model_id.lower():
                return m
        known = ", ".join(m.id for m in self.models)
        raise CatalogError(f"No model {model_id!r} in the catalog (known: {known}).")

    def quantization(self, model_id: str, quant: str, repo_id: str | None = None) -> Quantization:
        model = self.model(model_id)
        for q in model.quantizations:
            if q.quant.lower() == quant.lower() and (repo_id is None or q.repo_id == repo_id):
                return q
        known = ", ".join(q.quant for q in model.quantizations)
        raise CatalogError(f"{model.id} has no quantization {quant!r} (known: {known}).")


def estimate_size(params: int, quant: str) -> int:
    """Bytes of a GGUF of ``params`` weights in ``quant`` (header and metadata included)."""
    bpw = BITS_PER_WEIGHT.get(quant.removeprefix("i1-"), 16.0)
    return int(params * bpw / 8) + 8_000_000


def group_files(
    model_id: str, repo_id: str, params: int, entries: Iterable[dict[str, Any]]
) -> tuple[Quantization, ...]:
    """Gather a repository's GGUF files by quantization; the parts of a split file stay together."""
    groups: dict[str, list[CatalogFile]] = {}
    for entry in entries:
        name = str(entry["name"])
        if not name.lower().endswith(".gguf"):
            continue
        parsed = parse_gguf_name(name)
        quant = entry.get("part_of") or parsed.quant
        if quant is None or "mmproj" in name.lower():
            continue
        size = entry.get("size")
        estimated = size is None
        if size is None:
            size = estimate_size(params, quant) // parsed.parts
        groups.setdefault(str(quant), []).append(
            CatalogFile(
                name=name,
                size=int(size),
                estimated=estimated,
                sha256=entry.get("sha256"),
                listed=bool(entry.get("listed", not estimated)),
            )
        )
    quants = [
        Quantization(
            model_id,
            repo_id,
            quant,
            tuple(sorted(files, key=lambda f: parse_gguf_name(f.name).part)),
        )
        for quant, files in groups.items()
    ]
    return tuple(sorted(quants, key=lambda q: -q.size))


def _parse(data: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> Catalog:
    models = []
    for m in data["models"]:
        params = int(m["params"])
        repos = []
        for r in m["repos"]:
            repo_id = r["repo_id"]
            source = overrides.get(repo_id, r)
            repos.append(
                CatalogRepo(
                    repo_id=repo_id,
                    quantizations=group_files(m["id"], repo_id, params, source["files"]),
                    refreshed=repo_id in overrides,
                )
            )
        models.append(
            CatalogModel(
                id=m["id"],
                base_model=m["base_model"],
                description=m.get("description", ""),
                params=params,
                architecture=Architecture.from_dict(m["architecture"]),
                repos=tuple(repos),
                format=str(m.get("format", "s1")),
            )
        )
    return Catalog(tuple(models))


def packaged_data() -> dict[str, Any]:
    text = resources.files("s1desk.models").joinpath("catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def user_catalog_path() -> Path:
    return paths.config_dir() / USER_FILE


def _overrides(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        return {str(k): v for k, v in data["repos"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignoring the refreshed catalog %s: %s", path, exc)
        return {}


def load_catalog(user_file: Path | None = None) -> Catalog:
    """The packaged catalog, with repositories refreshed from the hub where that was done."""
    try:
        data = packaged_data()
        return _parse(data, _overrides(user_file or user_catalog_path()))
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"The model catalog is damaged: {exc}") from exc


def refresh_catalog(api: Any = None, user_file: Path | None = None) -> tuple[Catalog, list[str]]:
    """Read each repository's file listing from the hub (sizes and sha256) and keep it.

    Returns the new catalog and a list of problems (repositories that could not
    be read keep their previous entries).
    """
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    from s1desk.models.download_errors import explain
    from s1desk.models.hub_cache import hub_endpoint

    api = api or HfApi(endpoint=hub_endpoint())
    target = user_file or user_catalog_path()
    overrides = _overrides(target)
    problems: list[str] = []
    for m in packaged_data()["models"]:
        for r in m["repos"]:
            repo_id = r["repo_id"]
            try:
                entries = [
                    {
                        "name": item.path,
                        "size": item.size,
                        "sha256": item.lfs.sha256 if item.lfs else None,
                        "listed": True,
                    }
                    for item in api.list_repo_tree(repo_id, recursive=True)
                    if isinstance(item, RepoFile) and item.path.lower().endswith(".gguf")
                ]
            except Exception as exc:
                problems.append(str(explain(exc, repo_id, "the file listing", api.endpoint)))
                continue
            overrides[repo_id] = {"files": entries}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"format": 1, "repos": overrides}, indent=1) + "\n", "utf-8")
    tmp.replace(target)
    return load_catalog(target), problems


def with_files(q: Quantization, files: Iterable[CatalogFile]) -> Quantization:
    return replace(q, files=tuple(files))
