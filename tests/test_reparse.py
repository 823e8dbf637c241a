"""The language server's partial re-parse gives exactly the tree a whole parse gives, edit after
edit, or falls back to the whole parse (and its error)."""

from __future__ import annotations

import random

import libcst as cst
import pytest

from modal_gpu_lint.analysis.cst_parse import parse_module
from modal_gpu_lint.run.engine import FileErrorException
from modal_gpu_lint.run.reparse import Reparser

BASE = '''\
#!/usr/bin/env python
"""A module docstring."""
# a header comment

import modal

app = modal.App("x")  # trailing comment
image = modal.Image.debian_slim()


@app.function(gpu="A100-80GB", timeout=60)
def train(steps: int = 10) -> None:
    total = 0
    for step in range(steps):
        total += step  # inner comment

    # a comment at the end of the body
    print(total)


# a comment between functions
@app.cls(gpu=["H100", "L4"], timeout=600)
class Model:
    @modal.enter()
    def load(self) -> None:
        self.x = (1,
                  2)

    @modal.method()
    def run(self) -> str:
        return """a
multi-line string"""


x = 1; y = 2
if x:
    pass
# the footer comment
'''
MIDDLE = "".join(
    f"\n\n@app.function(timeout={i})\ndef step_{i}(x):\n    if x:\n        return x  # {i}\n    return None\n\n"
    for i in range(6)
)
LONG = BASE.replace("# a comment between functions\n", MIDDLE + "# a comment between functions\n")
LINES = ["\n", "# c\n", "    # c\n", "z = 1\n", "    z = 1\n", "def g():\n    return 1\n", '@app.function(gpu="T4")\n']
PIECES = ["\n", "    ", "x", "(", ")", '"', "#", ":", "def f():\n", "    pass\n", '"""', "\\", "\t", "gpu=", ",", "@"]


def whole(text: str) -> cst.Module | None:
    try:
        return parse_module(text)
    except Exception:
        return None


def check(reparser: Reparser, text: str) -> None:
    expected = whole(text)
    if expected is None:
        with pytest.raises(FileErrorException):
            reparser.parse(text)
        return
    try:
        _, module = reparser.parse(text)
    except FileErrorException:  # the engine's guards may refuse what libcst accepts: then so did the whole parse
        return
    assert module.code == text
    assert module.deep_equals(expected)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('gpu="A100-80GB"', 'gpu="A100-80G"'),  # inside a decorator
        ("    print(total)\n", "    print(total)\n    print(steps)\n"),  # a line added to a body
        ("# a comment between functions\n", "# a comment between functions\n    y = 3\n"),  # indented: joins train
        ("x = 1; y = 2\n", "x = 1; y = 2; z = 3\n"),
        ("# the footer comment\n", "# the footer comment\nz = 4\n"),  # in the footer: whole parse
        ("# a header comment\n", ""),  # in the header: whole parse
        ('        return """a\n', '        return """a\n"""\n'),  # changes how the rest is read
        ("def train(", "def train(("),  # a syntax error
    ],
)
def test_single_edits_match_a_whole_parse(old: str, new: str) -> None:
    reparser = Reparser("app.py")
    reparser.parse(BASE)
    assert old in BASE
    check(reparser, BASE.replace(old, new, 1))
    check(reparser, BASE)  # and back


def test_the_typical_edit_is_partial() -> None:
    reparser = Reparser("app.py")
    reparser.parse(BASE)
    _, module = reparser.parse(BASE.replace('gpu="A100-80GB"', 'gpu="A100-80G"'))
    assert reparser.partial == 1
    assert module.deep_equals(parse_module(BASE.replace('gpu="A100-80GB"', 'gpu="A100-80G"')))


# No header comment and no footer comment: edits at either end of the file are re-parsed in part too.
BARE = LONG.removeprefix("#!/usr/bin/env python\n").removesuffix("# the footer comment\n")


@pytest.mark.parametrize("base", [LONG, BARE], ids=["header-and-footer", "bare"])
def test_random_edit_sequences_match_a_whole_parse(base: str) -> None:
    rng = random.Random(15)
    partial = 0
    for _ in range(30):
        reparser = Reparser("app.py")
        text = base
        reparser.parse(text)
        for _ in range(25):
            at = rng.randrange(len(text) + 1)
            starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
            line = rng.choice(starts)
            if rng.random() < 0.8:  # whole lines in or out: mostly still valid Python
                end = text.find("\n", line) + 1 or len(text)
                text = text[:line] + text[end:] if rng.random() < 0.4 else text[:line] + rng.choice(LINES) + text[line:]
            elif rng.random() < 0.5 and at < len(text):
                text = text[:at] + text[at + rng.randrange(1, 12) :]
            else:
                text = text[:at] + rng.choice(PIECES) + text[at:]
            check(reparser, text)
        partial += reparser.partial
    assert partial > 50  # the partial path was taken, and checked, many times
