"""`spec.parse_spec` against the real client: `modal._utils.function_utils.parse_gpu_config`.

The client accepts or rejects a GPU string by its count only (`int()` after the first `:`) and
upper-cases the rest. `parse_spec` must agree on every string: rejected by the client <=> a
"count" error; accepted => the same type text and count. On top of the client it reports what
the server rejects later (an empty type, whitespace around the type), as other error kinds.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modal._utils.function_utils import parse_gpu_config
from modal.exception import InvalidError

from modal_gpu_lint.facts.spec import GpuSpec, SpecError, parse_spec

# (text, what the client does, what parse_spec says)
#   client: "ok" (returns a config), "invalid" (InvalidError), "range" (protobuf rejects the count)
#   ours:   (type_text, suffix, count) or the SpecError kind
TABLE: list[tuple[str, str, tuple[str, str, int] | str]] = [
    ("H100", "ok", ("H100", "", 1)),
    ("h100", "ok", ("h100", "", 1)),
    ("H100:8", "ok", ("H100", "", 8)),
    ("H100!:8", "ok", ("H100", "!", 8)),
    ("H100!", "ok", ("H100", "!", 1)),
    ("B200+", "ok", ("B200", "+", 1)),
    ("b200+:4", "ok", ("b200", "+", 4)),
    ("A100-80GB:2", "ok", ("A100-80GB", "", 2)),
    ("any", "ok", ("any", "", 1)),
    ("H100: 8", "ok", ("H100", "", 8)),  # int(" 8") == 8
    ("H100:+8", "ok", ("H100", "", 8)),
    ("H100:08", "ok", ("H100", "", 8)),
    ("H100:1_0", "ok", ("H100", "", 10)),  # int("1_0") == 10
    ("H100:8 ", "ok", ("H100", "", 8)),
    ("H100:0", "ok", ("H100", "", 0)),  # accepted by the client; MGL003 reports it
    ("H100:-1", "range", ("H100", "", -1)),  # protobuf's uint32 rejects it at build time
    ("H100:4294967296", "range", ("H100", "", 4294967296)),
    ("A100-80G", "ok", ("A100-80G", "", 1)),  # unknown names are the catalog's business
    ("Nvidia T4", "ok", ("Nvidia T4", "", 1)),
    ("H100:two", "invalid", "count"),
    ("H100:", "invalid", "count"),
    ("H100:8!", "invalid", "count"),
    ("H100:1:2", "invalid", "count"),
    ("H100:2.0", "invalid", "count"),
    ("H100:0x2", "invalid", "count"),
    (":", "invalid", "count"),
    ("", "ok", "empty"),  # the client sends an empty type
    ("!", "ok", "empty"),
    (":8", "ok", "empty"),
    (" ", "ok", "empty"),
    (" H100", "ok", "whitespace"),
    ("H100 ", "ok", "whitespace"),
    ("H100 :8", "ok", "whitespace"),
    ("\tH100", "ok", "whitespace"),
]


def client(text: str) -> str:
    """What Modal's client does with `text`."""
    try:
        parse_gpu_config(text)
    except InvalidError:
        return "invalid"
    except ValueError:
        return "range"
    return "ok"


@pytest.mark.parametrize(("text", "client_verdict", "ours"), TABLE, ids=[repr(t[0]) for t in TABLE])
def test_table(text: str, client_verdict: str, ours: tuple[str, str, int] | str) -> None:
    assert client(text) == client_verdict
    spec = parse_spec(text)
    if isinstance(ours, str):
        assert isinstance(spec, SpecError), spec
        assert spec.kind == ours
        assert spec.text == text
        assert spec.message
    else:
        assert isinstance(spec, GpuSpec), spec
        assert (spec.type_text, spec.suffix, spec.count) == ours
        assert spec.name == ours[0].upper()


@pytest.mark.parametrize("text", [t[0] for t in TABLE if t[1] == "ok" and not isinstance(t[2], str)])
def test_same_type_and_count_as_the_client(text: str) -> None:
    config = parse_gpu_config(text)
    spec = parse_spec(text)
    assert isinstance(spec, GpuSpec)
    assert config.gpu_type == (spec.type_text + spec.suffix).upper()
    assert config.count == spec.count


def test_count_text_is_kept_for_the_fixer() -> None:
    spec = parse_spec("H100:08")
    assert isinstance(spec, GpuSpec)
    assert spec.count_text == "08"
    spec = parse_spec("H100")
    assert isinstance(spec, GpuSpec)
    assert spec.count_text is None


GPU_ALPHABET = st.sampled_from([*list("HABLTh1024568!+:-_ GB\t"), "100", "80GB", ":", "any"])


@settings(max_examples=400, deadline=None)
@given(st.lists(GPU_ALPHABET, max_size=8).map("".join) | st.text(max_size=12))
def test_agrees_with_the_client_on_any_text(text: str) -> None:
    verdict = client(text)
    spec = parse_spec(text)
    if verdict == "invalid":
        assert isinstance(spec, SpecError), (text, spec)
        assert spec.kind == "count", (text, spec)
        return
    assert not (isinstance(spec, SpecError) and spec.kind == "count"), (text, spec)
    if isinstance(spec, GpuSpec):
        if verdict == "ok":
            config = parse_gpu_config(text)
            assert config.gpu_type == (spec.type_text + spec.suffix).upper()
            assert config.count == spec.count
        else:  # the count is outside protobuf's uint32: negative or huge, MGL003 reports it
            assert spec.count < 0 or spec.count >= 2**32
    else:  # an error the client does not see: the server rejects an empty or padded type
        assert spec.kind in ("empty", "whitespace")
        head = text.partition(":")[0]
        assert head.strip() == "" or head != head.strip() or head in ("!", "+")
