"""`gpu_checks`: the verdicts every door (CLI, flake8, mypy) gives on one `gpu=` value."""

from __future__ import annotations

import libcst as cst
import pytest

from modal_gpu_lint.analysis.values import UNKNOWN, GpuObject, ListValue, OtherValue, Value
from modal_gpu_lint.facts.catalog import default_catalog
from modal_gpu_lint.rules.gpu_checks import Verdict, check_gpu_string, check_gpu_value, suggest

CATALOG = default_catalog()


def codes(value: Value, *, accepts_list: bool = True) -> list[str]:
    return [v.code for v in check_gpu_value(value, accepts_list=accepts_list, catalog=CATALOG, call="app.function")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # valid, canonical
        ("H100", []),
        ("H100!:8", []),
        ("B200+", []),
        ("B200+:8", []),
        ("any", []),
        ("A10:4", []),
        ("A100-40GB", []),
        ("A100-80GB:8", []),
        ("RTX-PRO-6000:4", []),
        ("L40S:8", []),
        ("B300", []),
        # valid, non-canonical (MGL009 is off by default, but it is a verdict)
        ("h100", ["MGL009"]),
        ("A10G", ["MGL009"]),
        ("H100:1", ["MGL009"]),
        ("H100:+8", ["MGL009"]),
        ("H100:08", ["MGL009"]),
        ("H100: 8", ["MGL009"]),
        ("ANY", ["MGL009"]),
        # malformed
        ("H100:two", ["MGL002"]),
        ("H100:", ["MGL002"]),
        ("H100:8!", ["MGL002"]),
        ("", ["MGL002"]),
        (" H100", ["MGL002"]),
        ("H100:1:2", ["MGL002"]),
        # counts
        ("A10:8", ["MGL003"]),
        ("H100:16", ["MGL003"]),
        ("L4:0", ["MGL003"]),
        ("H100:-1", ["MGL003"]),
        ("H100:1_0", ["MGL003"]),
        ("any:8", []),
        ("RTX-PRO-6000:100", []),
        # suffixes
        ("H200!", ["MGL004"]),
        ("A10G!", ["MGL004"]),
        ("L40S+", ["MGL004"]),
        ("H100+", ["MGL004"]),
        ("B200!", ["MGL004"]),
        ("A10G!:8", ["MGL004", "MGL003"]),
        # unknown types
        ("A100-80G", ["MGL001"]),
        ("Nvidia T4", ["MGL001"]),
        ("GB200", ["MGL001"]),
        ("A100-20GB", ["MGL001"]),
    ],
)
def test_string_verdicts(text: str, expected: list[str]) -> None:
    assert [v.code for v in check_gpu_string(text, CATALOG)] == expected


@pytest.mark.parametrize(
    ("text", "replacement"),
    [
        ("A100-80G", "A100-80GB"),
        ("a100-80g:2", "A100-80GB:2"),  # the count is kept
        ("A100-40G", "A100-40GB"),  # the pinned 40 GB type, not the upgradable A100
        ("Nvidia T4", "T4"),
        ("Tesla T4", "T4"),
        ("NVIDIA A100 80GB", "A100-80GB"),
        ("a100_80gb", "A100-80GB"),
        ("H100-80GB", "H100"),  # the memory is H100's own
        ("H100!-80GB", "H100!"),  # the pin survives
        ("T-4", "T4"),
    ],
)
def test_clear_suggestions_have_a_replacement(text: str, replacement: str) -> None:
    (verdict,) = check_gpu_string(text, CATALOG)
    assert verdict.code == "MGL001"
    assert verdict.replacement == replacement
    assert f"did you mean {replacement.split(':')[0]!r}" in verdict.message


@pytest.mark.parametrize(
    "text",
    [
        "A100-60GB",  # A100-40GB or A100-80GB?
        "L40",  # L40S or L4?
        "V100",  # not an H100 typo
        "H200!-141GB",  # H200 takes no `!`
        "H100-SXM",
        "B200-PLUS",
        "RTX4090",
        "cpu",
        "GB200",  # named in the catalog as not a gpu= value
        "A100-20GB",  # removed
        "H20",  # a real, different GPU: not a typo of H200
        "B20",  # a different model number
    ],
)
def test_ambiguous_or_unknown_names_get_no_replacement(text: str) -> None:
    (verdict,) = check_gpu_string(text, CATALOG)
    assert verdict.code == "MGL001"
    assert verdict.replacement is None


def test_removed_names_say_why() -> None:
    (gb200,) = check_gpu_string("GB200", CATALOG)
    assert "RDMA" in gb200.message
    (a100_20,) = check_gpu_string("A100-20GB", CATALOG)
    assert "removed" in a100_20.message


def test_unknown_without_a_guess_lists_the_catalog() -> None:
    (verdict,) = check_gpu_string("cpu", CATALOG)
    assert "did you mean" not in verdict.message
    for name in ("T4", "H100", "B200", "any"):
        assert name in verdict.message


def test_suggest_directly() -> None:
    assert suggest("A100-80G", CATALOG) == ("A100-80GB", True)
    assert suggest("zzzz", CATALOG) == ("", False)
    name, clear = suggest("L40", CATALOG)
    assert name in ("L40S", "L4")
    assert not clear


def test_replacements_for_suffix_and_canonical_spelling() -> None:
    (suffix,) = check_gpu_string("H200!:4", CATALOG)
    assert (suffix.code, suffix.replacement) == ("MGL004", "H200:4")
    (spelling,) = check_gpu_string("a10g:1", CATALOG)
    assert (spelling.code, spelling.replacement) == ("MGL009", "A10")
    (count,) = check_gpu_string("H100:08", CATALOG)
    assert count.replacement == "H100:8"


def test_non_string_values() -> None:
    assert codes(True) == ["MGL005"]
    assert codes(False) == ["MGL005"]
    assert codes(2) == ["MGL005"]
    assert codes(0.5) == ["MGL005"]
    assert codes(OtherValue("a tuple")) == ["MGL005"]
    assert codes(None) == []
    assert codes(UNKNOWN) == []
    gpu_object = GpuObject(cst.parse_expression("modal.gpu.H100()"), "H100")  # type: ignore[arg-type]
    assert codes(gpu_object) == []  # MGL008 reports it, once


def test_tuple_message_suggests_a_list_where_lists_are_accepted() -> None:
    (verdict,) = check_gpu_value(OtherValue("a tuple"), accepts_list=True, catalog=CATALOG, call="app.function")
    assert "list" in verdict.message


def test_lists() -> None:
    assert codes(ListValue(("H100", "A100-80GB:2"))) == []
    assert codes(ListValue(("H100", "A100-80GB")), accepts_list=False) == ["MGL006"]
    assert codes(ListValue(())) == ["MGL007"]
    assert codes(ListValue(("H100", "h100"))) == ["MGL009", "MGL007"]  # MGL009 is off by default
    assert codes(ListValue(("A10", "A10G"))) == ["MGL009", "MGL007"]
    assert codes(ListValue(("L4:1", "L4"))) == ["MGL009", "MGL007"]
    assert codes(ListValue(("H100", "H100!"))) == []
    assert codes(ListValue(("H100:2", "H100:4"))) == []
    assert codes(ListValue(("H100", None))) == ["MGL005"]
    assert codes(ListValue(("H100", 2))) == ["MGL005"]
    assert codes(ListValue(("H100", UNKNOWN, UNKNOWN))) == []
    assert codes(ListValue(("A100-80G", "A10:8"))) == ["MGL001", "MGL003"]


def test_list_entries_carry_their_index() -> None:
    verdicts = check_gpu_value(
        ListValue(("H100", "A100-80G", "H100")), accepts_list=True, catalog=CATALOG, call="app.function"
    )
    assert [(v.code, v.item) for v in verdicts] == [("MGL001", 1), ("MGL007", 2)]
    assert verdicts[0] == Verdict("MGL001", verdicts[0].message, "A100-80GB", 1)


def test_mgl006_names_the_call() -> None:
    (verdict,) = check_gpu_value(ListValue(("H100",)), accepts_list=False, catalog=CATALOG, call="Sandbox.create")
    assert "Sandbox.create" in verdict.message


def test_user_catalog_changes_the_verdicts() -> None:
    catalog = CATALOG.with_overrides({"GB300": {"memory-gb": 288, "max-count": 8}, "A10": {"max-count": 8}})
    assert [v.code for v in check_gpu_string("GB300:8", catalog)] == []
    assert [v.code for v in check_gpu_string("gb300:9", catalog)] == ["MGL003"]
    assert [v.code for v in check_gpu_string("A10:8", catalog)] == []
