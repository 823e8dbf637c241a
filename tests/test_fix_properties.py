"""Property test: whatever the layout of an old-style decorator, `--fix` keeps every comment,
gives code that compiles and that the linter passes, and a second run changes nothing."""

from __future__ import annotations

import io
import tokenize

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.fixer import fix_bytes

SETTINGS = load_settings(start=None)
ARGUMENTS = [
    'gpu="T4"',
    "timeout=60",
    "keep_warm=1",
    "concurrency_limit=2",
    "container_idle_timeout=30",
    "allow_concurrent_inputs=4",
    "max_inputs=1",
    "image=image",
    'gpu=modal.gpu.A100(size="80GB")',
]
OLD_WORDS = (
    "keep_warm",
    "concurrency_limit",
    "container_idle_timeout",
    "allow_concurrent_inputs",
    "max_inputs=1",
    "modal.gpu",
)


@st.composite
def decorated(draw: st.DrawFn) -> str:
    gpu = draw(st.sampled_from([ARGUMENTS[0], ARGUMENTS[-1]]))
    others = draw(st.lists(st.sampled_from(ARGUMENTS[1:-1]), unique=True, min_size=1))
    args = draw(st.permutations([gpu, *others]))
    multi_line = draw(st.booleans())
    trailing = draw(st.booleans())
    on_decorator = "  # the app decorator" if draw(st.booleans()) else ""
    if not multi_line:
        body = ", ".join(args) + (", " if trailing else "")
        call = f"@app.function({body}){on_decorator}\n"
    else:
        lines = [f"@app.function({on_decorator}\n" if on_decorator else "@app.function(\n"]
        for index, arg in enumerate(args):
            if draw(st.booleans()):
                lines.append(f"    # about argument {index}\n")
            comma = "," if index < len(args) - 1 or trailing else ""
            comment = f"  # after argument {index}" if draw(st.booleans()) else ""
            lines.append(f"    {arg}{comma}{comment}\n")
        if draw(st.booleans()):
            lines.append("    # before the parenthesis\n")
        lines.append(")\n")
        call = "".join(lines)
    above = "# above the function\n" if draw(st.booleans()) else ""
    return (
        "import modal\n\n"
        'app = modal.App("property")\n'
        "image = modal.Image.debian_slim()\n\n\n"
        f"{above}{call}def f():\n    pass\n"
    )


def _comments(text: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return sorted(t.string for t in tokens if t.type == tokenize.COMMENT)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decorated())
def test_fix_keeps_comments_and_reaches_a_fixed_point(source: str) -> None:
    result = fix_bytes("app.py", source.encode(), SETTINGS, unsafe=True)
    assert result.error is None, result.error
    assert (result.new_bytes is None) == (result.fixed == 0)
    text = (result.new_bytes or source.encode()).decode()
    compile(text, "app.py", "exec")
    assert _comments(text) == _comments(source), text
    assert not any(word in text for word in OLD_WORDS), text
    assert result.diagnostics == [], (text, result.diagnostics)
    again = fix_bytes("app.py", text.encode(), SETTINGS, unsafe=True)
    assert again.new_bytes is None
    assert again.fixed == 0
    assert again.error is None


_MANY_HEADER = 'import modal\n\napp = modal.App("many")\n'


def _many_function(index: int) -> str:
    """One function of a many-function file; each has findings with fixes of several kinds."""
    gpu = ("a10g", "A10G", "l4", "h100", "T4")[index % 5]
    extra = ("", ", timeout=600", ", concurrency_limit=2", "  # noqa: MGL201", "")[index % 5]
    if index % 7 == 3:  # a removed argument with a comment line above it, and a new decorator
        call = f"@app.function(\n    gpu={gpu!r},\n    # up to four at once\n    allow_concurrent_inputs=4,\n)"
    elif extra.startswith("  #"):
        call = f"@app.function(gpu={gpu!r}, keep_warm=1){extra}"
    else:
        call = f"@app.function(gpu={gpu!r}, keep_warm={index % 3 + 1}{extra})"
    return f"\n\n{call}\ndef task_{index}(x: int) -> int:\n    return x * {index}\n"


def test_fixing_a_many_function_file_equals_fixing_it_in_chunks() -> None:
    """The fixed text of a file of many functions is the fixed text of its parts, put together
    (the fixer's work per function does not depend on the rest of a large file)."""
    chosen = load_settings(start=None, extend_select=["MGL009"])
    functions = [_many_function(i) for i in range(140)]
    for unsafe in (False, True):
        whole = fix_bytes("many.py", (_MANY_HEADER + "".join(functions)).encode(), chosen, unsafe=unsafe)
        assert whole.error is None
        assert whole.new_bytes is not None
        parts: list[str] = []
        fixed = remaining = 0
        for start in range(0, len(functions), 35):
            chunk = fix_bytes(
                "many.py", (_MANY_HEADER + "".join(functions[start : start + 35])).encode(), chosen, unsafe=unsafe
            )
            assert chunk.error is None
            assert chunk.new_bytes is not None
            text = chunk.new_bytes.decode()
            assert text.startswith(_MANY_HEADER)
            parts.append(text[len(_MANY_HEADER) :])
            fixed += chunk.fixed
            remaining += len(chunk.diagnostics)
        assert whole.new_bytes.decode() == _MANY_HEADER + "".join(parts)
        assert (whole.fixed, len(whole.diagnostics)) == (fixed, remaining)
        assert whole.fixed > 140
