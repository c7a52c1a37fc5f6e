"""The packaged catalog and GGUF file-name parsing (split files, quantization names)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1desk.models.catalog import CatalogError, estimate_size, group_files, load_catalog
from s1desk.models.naming import parse_gguf_name, split_part_names


@pytest.mark.parametrize(
    ("name", "quant", "part", "parts"),
    [
        ("simplescaling_s1.1-32B-Q4_K_M.gguf", "Q4_K_M", 1, 1),
        ("simplescaling_s1.1-32B-IQ2_M.gguf", "IQ2_M", 1, 1),
        ("s1.1-14B.Q5_K_S.gguf", "Q5_K_S", 1, 1),
        ("s1.1-14B.i1-Q4_K_M.gguf", "i1-Q4_K_M", 1, 1),
        ("simplescaling_s1-32B-Q6_K_L.gguf", "Q6_K_L", 1, 1),
        ("dir/simplescaling_s1.1-32B-f16-00002-of-00003.gguf", "F16", 2, 3),
        ("s1.1-1.5B.Q8_0.gguf", "Q8_0", 1, 1),
        ("qwen2.5-coder-0.5b-instruct-q4.gguf", None, 1, 1),
    ],
)
def test_names(name: str, quant: str | None, part: int, parts: int) -> None:
    parsed = parse_gguf_name(name)
    assert (parsed.quant, parsed.part, parsed.parts) == (quant, part, parts)


def test_split_part_names() -> None:
    assert split_part_names("a/m-Q8_0-00002-of-00003.gguf") == [
        "a/m-Q8_0-00001-of-00003.gguf",
        "a/m-Q8_0-00002-of-00003.gguf",
        "a/m-Q8_0-00003-of-00003.gguf",
    ]
    assert split_part_names("m-Q8_0.gguf") == ["m-Q8_0.gguf"]


def test_packaged_catalog_has_the_known_repositories() -> None:
    catalog = load_catalog(Path("/nonexistent"))
    repos = {r.repo_id for m in catalog.models for r in m.repos}
    assert {
        "bartowski/simplescaling_s1.1-32B-GGUF",
        "bartowski/simplescaling_s1-32B-GGUF",
        "mradermacher/s1.1-14B-GGUF",
        "mradermacher/s1.1-1.5B-GGUF",
    } <= repos
    q = catalog.quantization("s1.1-32B", "Q4_K_M")
    assert q.filenames == ("simplescaling_s1.1-32B-Q4_K_M.gguf",)
    assert q.estimated  # no size in the packaged data: estimated until refreshed
    assert 18e9 < q.size < 21e9
    f16 = catalog.quantization("s1.1-32B", "F16")
    assert len(f16.files) == 2
    assert [parse_gguf_name(f.name).part for f in f16.files] == [1, 2]
    with pytest.raises(CatalogError, match="no quantization"):
        catalog.quantization("s1.1-32B", "Q9_K")
    with pytest.raises(CatalogError, match="No model"):
        catalog.model("s2-70B")


def test_grouping_keeps_split_parts_together_and_skips_other_files() -> None:
    quants = group_files(
        "m",
        "r/m",
        1_000_000_000,
        [
            {"name": "m-Q8_0/m-Q8_0-00002-of-00002.gguf", "size": 5},
            {"name": "m-Q8_0/m-Q8_0-00001-of-00002.gguf", "size": 7},
            {"name": "m-Q4_K_M.gguf", "size": 3},
            {"name": "README.md", "size": 1},
            {"name": "mmproj-m-f16.gguf", "size": 9},
        ],
    )
    assert [(q.quant, q.size, len(q.files)) for q in quants] == [("Q8_0", 12, 2), ("Q4_K_M", 3, 1)]
    assert quants[0].files[0].name.endswith("00001-of-00002.gguf")
    assert not quants[0].estimated


def test_estimates_follow_bits_per_weight() -> None:
    assert estimate_size(32_763_876_352, "Q8_0") > estimate_size(32_763_876_352, "Q4_K_M")
    # Q4_K_M of a 32B Qwen2.5 is about 19.9 GB
    assert abs(estimate_size(32_763_876_352, "Q4_K_M") - 19.9e9) < 0.5e9


def test_a_damaged_refresh_file_is_ignored(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.json"
    bad.write_text("{not json")
    assert load_catalog(bad).quantization("s1.1-32B", "Q4_K_M").estimated
    bad.write_text(json.dumps({"repos": {"mradermacher/s1.1-1.5B-GGUF": {"files": [
        {"name": "s1.1-1.5B.Q4_K_M.gguf", "size": 986048384, "sha256": "ab" * 32}]}}}))  # fmt: skip
    q = load_catalog(bad).quantization("s1.1-1.5B", "Q4_K_M")
    assert q.size == 986048384
    assert not q.estimated
