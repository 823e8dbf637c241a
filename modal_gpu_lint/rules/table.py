"""Each rule's code, name, default and documentation address, without importing the checkers.

The checkers need libcst, whose import alone costs more than a whole run served from the cache.
Configuration and output only need this table, so a warm run never imports libcst.

The table is GENERATED from `modal_gpu_lint.rules.registry` by `python -m modal_gpu_lint.rules.table`, with a
digest of `rules/*.py`. When those files change and the table is not regenerated, RULES is built
from the rules themselves (correct, only slower); tests/test_runner.py fails until it is regenerated.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import NamedTuple

_RULES_DIR = Path(__file__).resolve().parent


class RuleInfo(NamedTuple):
    """What configuration and output need to know about a rule."""

    name: str
    default: bool
    url: str


# --- generated: begin ---
DIGEST = '5d47bb965e5f2543c2d7079a96a08500'
TABLE: dict[str, RuleInfo] = {
    'MGL001': RuleInfo('unknown-gpu-type', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl001'),
    'MGL002': RuleInfo('malformed-gpu-spec', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl002'),
    'MGL003': RuleInfo('gpu-count-out-of-range', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl003'),
    'MGL004': RuleInfo('invalid-gpu-suffix', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl004'),
    'MGL005': RuleInfo('invalid-gpu-value', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl005'),
    'MGL006': RuleInfo('gpu-list-not-accepted', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl006'),
    'MGL007': RuleInfo('bad-fallback-list', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl007'),
    'MGL008': RuleInfo('removed-gpu-object', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl008'),
    'MGL009': RuleInfo('non-canonical-gpu-spelling', False, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl009'),
    'MGL101': RuleInfo('missing-timeout', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl101'),
    'MGL102': RuleInfo('timeout-out-of-range', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl102'),
    'MGL201': RuleInfo('renamed-autoscaler-parameter', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl201'),
    'MGL202': RuleInfo('removed-allow-concurrent-inputs', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl202'),
    'MGL203': RuleInfo('removed-stub', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl203'),
    'MGL204': RuleInfo('renamed-web-endpoint', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl204'),
    'MGL205': RuleInfo('deprecated-max-inputs', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl205'),
    'MGL301': RuleInfo('suggest-fallbacks', False, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl301'),
    'MGL302': RuleInfo('suggest-strict-h100', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl302'),
    'MGL303': RuleInfo('weaker-fallback', False, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl303'),
    'MGL401': RuleInfo('cuda-without-gpu', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl401'),
    'MGL402': RuleInfo('parallelism-exceeds-gpus', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl402'),
    'MGL403': RuleInfo('model-exceeds-gpu-memory', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl403'),
    'MGL404': RuleInfo('partial-node-cluster', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl404'),
    'MGL405': RuleInfo('nonpreemptible-gpu', True, 'https://github.com/modal-gpu-lint/modal-gpu-lint/blob/main/docs/rules.md#mgl405'),
}
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
        f"    {code!r}: RuleInfo({info.name!r}, {info.default!r}, {info.url!r}),\n"
        for code, info in live_table().items()
    )
    return f"DIGEST = {rules_digest()!r}\nTABLE: dict[str, RuleInfo] = {{\n{rows}}}\n"


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
