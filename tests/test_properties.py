"""Properties of the pure core: `spec.parse_spec` and `gpu_checks.check_gpu_value`.

The oracle for parsing is Modal's own client, `modal._utils.function_utils.parse_gpu_config`,
run on the same generated strings (see tests/strategies.py). The number of examples comes from
the Hypothesis profile (tests/hypothesis_profiles.py): 100 locally, 200 in CI, 5000 with
`HYPOTHESIS_PROFILE=long`.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import example, given, note
from hypothesis import strategies as st
from modal._utils.function_utils import parse_gpu_config
from modal.exception import InvalidError
from strategies import CATALOG, catalogs, gpu_strings, gpu_values

from modal_gpu_lint.analysis.values import ListValue, Value
from modal_gpu_lint.facts.catalog import Catalog
from modal_gpu_lint.facts.spec import GpuSpec, SpecError, parse_spec
from modal_gpu_lint.rules.gpu_checks import Verdict, check_gpu_string, check_gpu_value

CODES = {"MGL001", "MGL002", "MGL003", "MGL004", "MGL005", "MGL006", "MGL007", "MGL009"}
UINT32 = 2**32


def client(text: str) -> tuple[str, object]:
    """("ok", config) | ("invalid", None) when the client raises InvalidError | ("value", error)."""
    try:
        return "ok", parse_gpu_config(text)
    except InvalidError:
        return "invalid", None
    except ValueError as error:  # protobuf: a count outside uint32, a type that is not UTF-8
        return "value", error


def server_only_kind(text: str) -> str | None:
    """The error the client lets through and the server rejects: an empty or padded type."""
    head = text.partition(":")[0]
    if head.strip() == "" or head in ("!", "+"):
        return "empty"
    if head != head.strip():
        return "whitespace"
    return None


@given(gpu_strings())
@example("H100:8!")
@example("H100: 8")
@example("H100:1_0")
@example("H100:٣")
@example("H100:²")
@example("H100:-1")
@example("\ud800:8")
@example(" :x")
@example("!:")
def test_parse_spec_agrees_with_the_client(text: str) -> None:
    verdict, detail = client(text)
    spec = parse_spec(text)  # never raises: a GpuSpec or a SpecError, whatever the text
    note(f"client: {verdict} {detail!r}; ours: {spec!r}")
    assert isinstance(spec, (GpuSpec, SpecError))
    # The client rejects exactly what we call a malformed count.
    assert (verdict == "invalid") == (isinstance(spec, SpecError) and spec.kind == "count")
    if verdict == "invalid":
        return
    # Otherwise our only other errors are the server-side ones, precisely when they apply.
    expected_kind = server_only_kind(text)
    if isinstance(spec, SpecError):
        assert spec.kind == expected_kind
        assert spec.text == text
        assert spec.message
        return
    assert expected_kind is None
    head, colon, count_text = text.partition(":")
    assert spec.type_text + spec.suffix == head
    assert spec.count_text == (count_text if colon else None)
    if verdict == "ok":
        assert detail.gpu_type == (spec.type_text + spec.suffix).upper()  # type: ignore[attr-defined]
        assert detail.count == spec.count  # type: ignore[attr-defined]
        assert 0 <= spec.count < UINT32
    elif isinstance(detail, UnicodeEncodeError):  # a lone surrogate cannot be sent at all
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in head)
    else:  # protobuf's uint32 refuses the count: MGL003 reports it for known types
        assert spec.count < 0 or spec.count >= UINT32


def check_invariants(verdicts: list[Verdict], value: Value, catalog: Catalog) -> None:
    """What every verdict list must look like, whatever the value."""
    for verdict in verdicts:
        assert verdict.code in CODES
        assert verdict.message
        assert "\n" not in verdict.message
        assert "\r" not in verdict.message
        if verdict.item is not None:
            assert isinstance(value, ListValue)
            assert 0 <= verdict.item < len(value.items)
        if verdict.replacement is None:
            continue
        after = {v.code for v in check_gpu_string(verdict.replacement, catalog)}
        if verdict.code == "MGL009":  # the canonical spelling is itself clean
            assert not after, (verdict, after)
        elif verdict.code == "MGL001":  # the suggested name is a known type
            assert not after & {"MGL001", "MGL002"}, (verdict, after)
        elif verdict.code == "MGL004":  # dropping the suffix leaves a known type without one
            assert not after & {"MGL001", "MGL002", "MGL004"}, (verdict, after)


CALLS = st.sampled_from(
    ["app.function", "app.cls", "app.server", "with_options", "Sandbox.create", "Image.pip_install"]
)


@given(gpu_values(), st.booleans(), catalogs(), CALLS)
@example(
    ListValue((ListValue(("H100",)), "T4")), True, CATALOG, "App.function"
)  # was: "entry 1 ... is ListValue(items=...)"
def test_check_gpu_value_never_raises_and_is_well_formed(
    value: Value, accepts_list: bool, catalog: Catalog, call: str
) -> None:
    verdicts = check_gpu_value(value, accepts_list=accepts_list, catalog=catalog, call=call)
    check_invariants(verdicts, value, catalog)
    # The same question gets the same answer.
    assert check_gpu_value(value, accepts_list=accepts_list, catalog=catalog, call=call) == verdicts
    if isinstance(value, ListValue) and not accepts_list:
        assert "MGL006" in {v.code for v in verdicts}


@given(gpu_strings(), catalogs())
def test_every_string_verdict_is_consistent(text: str, catalog: Catalog) -> None:
    verdicts = list(check_gpu_string(text, catalog))
    check_invariants(verdicts, text, catalog)
    codes = [v.code for v in verdicts]
    spec = parse_spec(text)
    if isinstance(spec, SpecError):
        assert codes == ["MGL002"]
    elif catalog.lookup(spec.type_text) is None:
        assert codes == ["MGL001"]  # an unknown type says nothing more
    else:
        assert "MGL001" not in codes
        assert "MGL002" not in codes
        assert ("MGL009" in codes) <= (codes == ["MGL009"])  # spelling advice only on valid values


def _ascii_letters_only_change(text: str) -> bool:
    return text.isascii()


@given(gpu_strings().filter(_ascii_letters_only_change))
def test_case_does_not_change_the_verdict(text: str) -> None:
    """GPU names are case-insensitive: only the spelling advice (MGL009) may differ."""

    def codes(t: str) -> Counter[str]:
        return Counter(v.code for v in check_gpu_string(t, CATALOG) if v.code != "MGL009")

    assert codes(text) == codes(text.swapcase()) == codes(text.upper()) == codes(text.lower())


@given(gpu_strings())
def test_a_repeated_list_entry_is_always_reported(text: str) -> None:
    verdicts = check_gpu_value(ListValue((text, text)), accepts_list=True, catalog=CATALOG, call="App.function")
    assert any(v.code == "MGL007" and v.item == 1 for v in verdicts), verdicts
    # and every verdict on the first entry is repeated, no more, for the second
    first = Counter(v.code for v in verdicts if v.item == 0)
    second = Counter(v.code for v in verdicts if v.item == 1)
    assert second - Counter({"MGL007": 1}) == first
