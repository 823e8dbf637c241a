"""Hypothesis strategies: GPU strings from the grammar `TYPE[!|+][:COUNT]`, and `gpu=` values.

The strings are built to hit every branch of the client's parsing: catalog names and aliases in
random case, removed and misspelled names, any suffix, and count texts made of digits, signs,
whitespace, underscores, non-ASCII digits (which `int()` accepts) and characters it rejects.
"""

from __future__ import annotations

import libcst as cst
from hypothesis import strategies as st

from modal_gpu_lint.analysis.values import UNKNOWN, GpuObject, ListValue, OtherValue, Value
from modal_gpu_lint.facts.catalog import Catalog, default_catalog

CATALOG = default_catalog()

# Every spelling the catalog accepts, what it says was removed, and names people really write.
TYPE_NAMES = sorted(
    {t.name for t in CATALOG.types}
    | {t.canonical for t in CATALOG.types}
    | {alias for t in CATALOG.types for alias in t.aliases}
    | set(CATALOG.removed)
    | {
        "A100-80G",
        "A100 80GB",
        "a100_80gb",
        "Nvidia T4",
        "NVIDIA H100",
        "Tesla T4",
        "RTX 4090",
        "H100-80GB",
        "H100 SXM",
        "V100",
        "K80",
        "A10G-24GB",
        "L40",
        "B200-192GB",
        "MI300X",
        "gpu",
        "",
        " ",
        "-",
        "ß",
        "İ",
        "ﬁ",
    }
)
SUFFIXES = ["", "!", "+", "!!", "+!", "!+"]

# Pieces of a count: what int() accepts (ASCII and other decimal digits, a sign, whitespace
# around, single underscores between digits) and what it rejects (letters, dots, a second
# colon, non-decimal digits such as '²' and 'Ⅷ', trailing suffixes, hex prefixes).
COUNT_PIECES = [
    *"0123456789",
    "8",
    "16",
    "0",
    "00",
    "1",
    "4294967296",
    "99999999999999999999",
    "+",
    "-",
    "_",
    "__",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u2003",
    "\u3000",
    "٣",
    "３",  # noqa: RUF001  (look-alike digits are the point of this list)
    "߁",
    "𝟖",  # noqa: RUF001
    "੭",  # Arabic-Indic, fullwidth, NKo, mathematical bold, Gurmukhi digits
    "²",
    "Ⅷ",
    "½",  # digits to str.isdigit() or isnumeric(), not to int()
    "x",
    "e",
    ".",
    ",",
    ":",
    "!",
    "+8",
    "0x",
    "0b1",
    "two",
    "inf",
    "nan",
    "1e3",
    "\x00",
]


@st.composite
def random_case(draw: st.DrawFn, text: str) -> str:
    """`text` with each letter upper- or lower-cased at random."""
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(text, flips, strict=False))


def count_texts() -> st.SearchStrategy[str]:
    """What follows the `:`: joined pieces, plain numbers, or anything at all."""
    return st.one_of(
        st.lists(st.sampled_from(COUNT_PIECES), max_size=6).map("".join),
        st.integers(min_value=-10, max_value=2**33).map(str),
        st.text(max_size=6),
    )


@st.composite
def grammar_gpu_strings(draw: st.DrawFn) -> str:
    """A GPU string as written by people: TYPE[SUFFIX][:COUNT], sometimes padded."""
    name = draw(st.sampled_from(TYPE_NAMES).flatmap(random_case))
    text = name + draw(st.sampled_from(SUFFIXES))
    colons = draw(st.sampled_from([0, 0, 1, 1, 1, 2]))
    for _ in range(colons):
        text += ":" + draw(count_texts())
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from([" ", "\t", "\u00a0", "\n"])) + text
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from([" ", "\t", "!", "+"]))
    return text


def gpu_strings() -> st.SearchStrategy[str]:
    """Grammar strings most of the time, fully random text (surrogates included) otherwise."""
    return st.one_of(
        grammar_gpu_strings(),
        grammar_gpu_strings(),
        grammar_gpu_strings(),
        st.text(max_size=20),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    )


_DUMMY_CALL = cst.parse_expression('modal.gpu.A100(size="80GB")')
assert isinstance(_DUMMY_CALL, cst.Call)


def scalar_values() -> st.SearchStrategy[Value]:
    """Leaves of the value model: every Python literal type plus the special markers."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        gpu_strings(),
        st.sampled_from(["a tuple", "a dict", "a set", "a lambda", "bytes", "an f-string"]).map(OtherValue),
        st.just(UNKNOWN),
        st.sampled_from(["A100", "H100", "T4", "Any", ""]).map(lambda name: GpuObject(_DUMMY_CALL, name)),
    )


def gpu_values() -> st.SearchStrategy[Value]:
    """Any value the resolver can hand to `check_gpu_value`, lists nested in lists included."""
    return st.recursive(
        scalar_values(),
        lambda inner: st.lists(inner, max_size=5).map(lambda items: ListValue(tuple(items))),
        max_leaves=12,
    )


def catalogs() -> st.SearchStrategy[Catalog]:
    """The packaged catalog, or one with user rows added or changed as in pyproject.toml."""
    rows = st.fixed_dictionaries(
        {"memory-gb": st.integers(1, 300)},
        optional={
            "max-count": st.integers(1, 16),
            "suffixes": st.lists(st.sampled_from(["!", "+"]), unique=True),
            "aliases": st.lists(st.sampled_from(["MI300", "X1", "H100X", "a10g"]), unique=True, max_size=2),
        },
    )
    names = st.sampled_from(["MI300X", "H100", "T4", "any", "TPU-V5", "A10"])
    return st.one_of(
        st.just(CATALOG),
        st.dictionaries(names, rows, min_size=1, max_size=3).map(CATALOG.with_overrides),
    )
