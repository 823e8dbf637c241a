"""The packaged GPU catalog (checked against modal-facts.md) and user overrides from config."""

from __future__ import annotations

from typing import Any

import pytest

from modal_gpu_lint.facts.catalog import Catalog, CatalogError, default_catalog

CATALOG = default_catalog()

# modal-facts.md, "GPU catalog": type -> (memory per GPU in GB, max per container or None, suffixes)
FACTS: dict[str, tuple[float, int | None, tuple[str, ...]]] = {
    "T4": (16, 8, ()),
    "L4": (24, 8, ()),
    "A10": (24, 4, ()),
    "L40S": (48, 8, ()),
    "A100": (40, 8, ()),
    "A100-40GB": (40, 8, ()),
    "A100-80GB": (80, 8, ()),
    "RTX-PRO-6000": (96, None, ()),
    "H100": (80, 8, ("!",)),
    "H200": (141, 8, ()),
    "B200": (192, 8, ("+",)),
    "B300": (288, 8, ()),
    "ANY": (16, None, ()),
}


def test_packaged_catalog_matches_the_facts() -> None:
    assert {t.name for t in CATALOG.types} == set(FACTS)
    for name, (memory, max_count, suffixes) in FACTS.items():
        gpu = CATALOG.lookup(name)
        assert gpu is not None, name
        assert (gpu.memory_gb, gpu.max_count, gpu.suffixes) == (memory, max_count, suffixes), name


def test_lookup_is_case_insensitive_and_knows_aliases() -> None:
    assert CATALOG.lookup("h100") is CATALOG.lookup("H100")
    a10 = CATALOG.lookup("a10g")
    assert a10 is not None
    assert a10.name == "A10"
    assert CATALOG.lookup("A100-80G") is None
    any_pool = CATALOG.lookup("ANY")
    assert any_pool is not None
    assert any_pool.canonical == "any"
    assert "A10G" in CATALOG.names()


def test_removed_names_are_not_types() -> None:
    assert CATALOG.lookup("A100-20GB") is None
    assert "A100-20GB" in CATALOG.removed
    assert CATALOG.lookup("GB200") is None
    assert "GB200" in CATALOG.removed


def test_prices_and_dates_are_recorded() -> None:
    assert CATALOG.checked
    assert CATALOG.prices_as_of
    assert CATALOG.source.startswith("https://")
    for gpu in CATALOG.types:
        if gpu.name != "ANY":
            assert gpu.price is not None, gpu.name
            assert 0 < gpu.price < 0.01, gpu.name


def test_new_type() -> None:
    catalog = CATALOG.with_overrides({"gb300": {"memory-gb": 288, "max-count": 8, "suffixes": ["!"]}})
    gpu = catalog.lookup("GB300")
    assert gpu is not None
    assert (gpu.name, gpu.memory_gb, gpu.max_count, gpu.suffixes) == ("GB300", 288.0, 8, ("!",))
    assert CATALOG.lookup("GB300") is None  # the packaged catalog is untouched


def test_a_removed_name_can_be_added_back() -> None:
    catalog = CATALOG.with_overrides({"GB200": {"memory-gb": 186}})
    assert catalog.lookup("GB200") is not None


def test_override_merges_into_the_existing_row() -> None:
    catalog = CATALOG.with_overrides({"RTX-PRO-6000": {"max-count": 4}, "a10g": {"max-count": 8}})
    rtx = catalog.lookup("RTX-PRO-6000")
    assert rtx is not None
    assert (rtx.max_count, rtx.memory_gb) == (4, 96.0)
    a10 = catalog.lookup("A10")
    assert a10 is not None
    assert a10.max_count == 8
    assert a10.aliases == ("A10G",)
    assert len(catalog.types) == len(CATALOG.types)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"GB300": {"max-count": 8}}, "gpus.GB300: a new GPU type needs 'memory-gb'"),
        ({"H100": {"memory-gb": "80"}}, "gpus.H100.memory-gb: expected a positive number, got '80'"),
        ({"H100": {"memory-gb": -1}}, "gpus.H100.memory-gb: expected a positive number"),
        ({"H100": {"max-count": 0}}, "gpus.H100.max-count: expected a whole number >= 1, got 0"),
        ({"H100": {"max-count": 2.5}}, "gpus.H100.max-count: expected a whole number >= 1"),
        ({"H100": {"max-count": True}}, "gpus.H100.max-count: expected a whole number >= 1"),
        ({"H100": {"suffixes": ["?"]}}, "gpus.H100.suffixes: suffixes may only be"),
        ({"H100": {"suffixes": "!"}}, "gpus.H100.suffixes: expected a list of strings"),
        ({"H100": {"colour": "green"}}, "gpus.H100: unknown key 'colour'"),
        ({"H100": 80}, "gpus.H100: expected a table, got int"),
    ],
)
def test_bad_rows_name_the_key(rows: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError) as error:
        CATALOG.with_overrides(rows)
    assert message in str(error.value)


def test_catalog_is_frozen() -> None:
    with pytest.raises(AttributeError):
        CATALOG.types = ()  # type: ignore[misc]
    assert isinstance(CATALOG, Catalog)
