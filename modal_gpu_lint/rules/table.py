"""Each rule's code, name, default and documentation address, without importing the checkers.

The checkers need libcst, whose import alone costs more than a whole run served from the cache.
Configuration and output only need this table, so a warm run never imports libcst.

The table is GENERATED from `modal_gpu_lint.rules.registry` by `python -m modal_gpu_lint.rules.table`, with a
digest of `rules/*.py`. When those files change and the table is not regenerated, RULES is built
from the rules themselves (correct, only slower); tests/test_runner.py fails until it is regenerated.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import NamedTuple

from modal_gpu_lint.rules.base import rule_url

_RULES_DIR = Path(__file__).resolve().parent


class RuleInfo(NamedTuple):
    """What configuration and output need to know about a rule."""

    name: str
    default: bool
    url: str


def _table(*rows: tuple[str, str, bool]) -> dict[str, RuleInfo]:
    return {code: RuleInfo(name, default, rule_url(code)) for code, name, default in rows}


# --- generated: begin ---
DIGEST = "3503fdb93e27ba0a604fb5d16f26e6a6"
TABLE: dict[str, RuleInfo] = _table(
    ("MGL001", "unknown-gpu-type", True),
    ("MGL002", "malformed-gpu-spec", True),
    ("MGL003", "gpu-count-out-of-range", True),
    ("MGL004", "invalid-gpu-suffix", True),
    ("MGL005", "invalid-gpu-value", True),
    ("MGL006", "gpu-list-not-accepted", True),
    ("MGL007", "bad-fallback-list", True),
    ("MGL008", "removed-gpu-object", True),
    ("MGL009", "non-canonical-gpu-spelling", False),
    ("MGL101", "missing-timeout", True),
    ("MGL102", "timeout-out-of-range", True),
    ("MGL201", "renamed-autoscaler-parameter", True),
    ("MGL202", "removed-allow-concurrent-inputs", True),
    ("MGL203", "removed-stub", True),
    ("MGL204", "renamed-web-endpoint", True),
    ("MGL205", "deprecated-max-inputs", True),
    ("MGL301", "suggest-fallbacks", False),
    ("MGL302", "suggest-strict-h100", True),
    ("MGL303", "weaker-fallback", False),
    ("MGL401", "cuda-without-gpu", True),
    ("MGL402", "parallelism-exceeds-gpus", True),
    ("MGL403", "model-exceeds-gpu-memory", True),
    ("MGL404", "partial-node-cluster", True),
    ("MGL405", "nonpreemptible-gpu", True),
    ("MGL406", "image-cannot-run-on-gpu", True),
)
# --- generated: end ---


def rules_digest() -> str:
    """A digest of the sources that define the rules (`rules/*.py`, this table aside)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in _RULES_DIR.glob("*.py") if p.name != "table.py"):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def live_table() -> dict[str, RuleInfo]:
    """The table from the rules themselves (imports the checkers, and libcst)."""
    from modal_gpu_lint.rules.registry import RULES as rules

    return {code: RuleInfo(rule.name, rule.default, rule.url) for code, rule in rules.items()}


def _current() -> dict[str, RuleInfo]:
    try:
        fresh = rules_digest() == DIGEST
    except OSError:
        fresh = False
    return TABLE if fresh else live_table()


RULES: dict[str, RuleInfo] = _current()
DEFAULT_CODES = frozenset(code for code, info in RULES.items() if info.default)


def generated() -> str:
    """The generated part of this file, as the rules define it today."""
    rows = "".join(
        f"    ({json.dumps(code)}, {json.dumps(info.name)}, {info.default!r}),\n" for code, info in live_table().items()
    )
    return f"DIGEST = {json.dumps(rules_digest())}\nTABLE: dict[str, RuleInfo] = _table(\n{rows})\n"


def main() -> int:
    """Rewrite the generated part of this file."""
    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(_BEGIN, 1)
    _, tail = rest.split(_END, 1)
    new = f"{head}{_BEGIN}{generated()}{_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}")
    return 0


_BEGIN = "# --- generated: begin ---\n"
_END = "# --- generated: end ---\n"

if __name__ == "__main__":
    sys.exit(main())
