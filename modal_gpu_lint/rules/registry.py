"""Every rule and every checker, in code order."""

from __future__ import annotations

from modal_gpu_lint.rules import advice, image, needs, removed, timeouts, values
from modal_gpu_lint.rules.base import Rule
from modal_gpu_lint.rules.context import Checker, Context

RULES: dict[str, Rule] = {
    rule.code: rule for group in (values, timeouts, removed, advice, needs, image) for rule in group.RULES
}
CHECKERS: tuple[Checker, ...] = (values.check, timeouts.check, removed.check, advice.check, needs.check, image.check)
DEFAULT_CODES = frozenset(code for code, rule in RULES.items() if rule.default)

__all__ = ["CHECKERS", "DEFAULT_CODES", "RULES", "Context", "Rule"]
