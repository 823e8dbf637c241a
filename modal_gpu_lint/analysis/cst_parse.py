"""`parse_module(text)`: libcst's parse without its per-node validation, the same tree ~15% faster.

libcst validates every node it constructs (`CSTNode.__post_init__` calls `_validate`), also the
hundreds of thousands its own parser builds from source it has just parsed: about a sixth of the
parse time on Modal code. Its source says as much ("PERF: ... would allow us to avoid validating
the tree when parsing a file"). The native parser has already checked the syntax, so the hook is
switched off for the parse only; nodes the fixer builds are still validated. It also lets through
valid Python that the validation wrongly rejects (libcst issue #1061: `else(lambda: ())`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import libcst as cst

_LOCK = threading.Lock()
_VALIDATE = cst.CSTNode.__dict__.get("__post_init__")


def _skip(self: cst.CSTNode) -> None:
    """No validation: the parser built this node from source it accepted."""


@contextmanager
def unvalidated() -> Iterator[None]:
    """Nodes constructed inside are not validated (for nodes copied from a parsed tree)."""
    if _VALIDATE is None:  # a libcst without the hook: nothing to switch off
        yield
        return
    with _LOCK:
        type.__setattr__(cst.CSTNode, "__post_init__", _skip)
        try:
            yield
        finally:
            type.__setattr__(cst.CSTNode, "__post_init__", _VALIDATE)


def parse_module(text: str) -> cst.Module:
    """`libcst.parse_module(text)` without node validation during the parse.

    The cyclic garbage collector is paused meanwhile: the parse makes no garbage cycles, but its
    hundreds of thousands of new nodes would trigger collections that scan every one of them
    (about a quarter of the parse time of a large file).
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        with unvalidated():
            return cst.parse_module(text)
    finally:
        if paused:
            gc.enable()
