"""Fetching a built-in set from the Hugging Face hub into the standard HF cache.

The same cache and the same error messages as model downloads: the files land
in ``HF_HUB_CACHE`` (``datasets--owner--name``) where other tools find them,
and once fetched they load offline.
"""

from __future__ import annotations

import logging
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

from s1desk.lab.builtin import BuiltinSet, pick_files
from s1desk.lab.errors import SourceError
from s1desk.models.download import hub_cache_dir, hub_endpoint
from s1desk.models.download_errors import explain

log = logging.getLogger(__name__)


def _explain(exc: BaseException, dataset: BuiltinSet) -> SourceError:
    endpoint = hub_endpoint()
    page = f"{endpoint}/datasets/{dataset.repo_id}"
    if isinstance(exc, GatedRepoError):
        return SourceError(
            f"{dataset.title} ({dataset.repo_id}) is gated: accept its conditions on {page} "
            "with your Hugging Face account, then log in here with `hf auth login` "
            "(or set HF_TOKEN)."
        )
    if isinstance(exc, RepositoryNotFoundError) and exc.response.status_code in (401, 403):
        return SourceError(
            f"{dataset.title} ({dataset.repo_id}) needs a Hugging Face login: log in with "
            f"`hf auth login` (or set HF_TOKEN) with an account that may read {page}."
        )
    error = explain(exc, f"datasets/{dataset.repo_id}", dataset.title, endpoint)
    return SourceError(f"Could not fetch {dataset.title}: {error}")


def fetch(dataset: BuiltinSet) -> list[Path]:
    """Download (or find in the cache) the data files of ``dataset``'s split."""
    try:
        folder = Path(
            snapshot_download(
                dataset.repo_id,
                repo_type="dataset",
                allow_patterns=list(dataset.allow_patterns),
                cache_dir=hub_cache_dir(),
                endpoint=hub_endpoint(),
            )
        )
    except Exception as exc:  # the hub client raises many classes; each is explained
        raise _explain(exc, dataset) from exc
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    chosen = pick_files(found, dataset.split)
    if not chosen:
        raise SourceError(
            f"{dataset.repo_id} has no data files for the {dataset.split!r} split "
            f"(found: {', '.join(found) or 'nothing'}): the hub's copy changed its layout."
        )
    log.info("%s: reading %s", dataset.repo_id, ", ".join(chosen))
    return [folder / name for name in chosen]
