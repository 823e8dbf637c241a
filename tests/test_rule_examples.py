"""Each rule's own VALID / INVALID examples (the ones `modal-gpu-lint rule CODE` shows) as tests."""

from __future__ import annotations

import pytest

from modal_gpu_lint.rules.registry import RULES
from modal_gpu_lint.run.config import load_settings
from modal_gpu_lint.run.engine import lint_bytes

PRELUDE = "import modal\n\napp = modal.App('examples')\n\n"
SETTINGS = load_settings(select=["ALL"], start=None)

CASES = [(code, "valid", ex) for code, rule in RULES.items() for ex in rule.valid] + [
    (code, "invalid", ex) for code, rule in RULES.items() for ex in rule.invalid
]


@pytest.mark.parametrize(("code", "kind", "example"), CASES, ids=[f"{c}-{k}-{i}" for i, (c, k, _) in enumerate(CASES)])
def test_rule_example(code: str, kind: str, example: str) -> None:
    result = lint_bytes("example.py", (PRELUDE + example + "\n").encode(), SETTINGS)
    assert result.error is None
    codes = [d.code for d in result.diagnostics]
    if kind == "valid":
        assert code not in codes, result.diagnostics
    else:
        assert codes.count(code) == 1, result.diagnostics


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_examples_and_docs(code: str) -> None:
    rule = RULES[code]
    assert rule.valid
    assert rule.invalid
    assert rule.summary
    assert rule.why
    assert rule.example
    assert rule.instead
    assert (rule.fix is None) == (rule.fix_note == "") or rule.fix is None
