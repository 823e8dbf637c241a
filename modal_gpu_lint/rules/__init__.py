"""Every rule and every checker, in code order."""

from __future__ import annotations

from . import advice, needs, removed, timeouts, values
from .base import Rule
from .context import Checker, Context

RULES: dict[str, Rule] = {rule.code: rule for group in (values, timeouts, removed, advice, needs) for rule in group.RULES}
CHECKERS: tuple[Checker, ...] = (values.check, timeouts.check, removed.check, advice.check, needs.check)
DEFAULT_CODES = frozenset(code for code, rule in RULES.items() if rule.default)

__all__ = ["CHECKERS", "Context", "DEFAULT_CODES", "RULES", "Rule"]
