"""What a rule is: a code, a name, a default, docs and examples (the checks live in checkers)."""

from __future__ import annotations

from dataclasses import dataclass

from modal_gpu_lint.findings import Applicability

# Where a rule is documented: a path relative to the root of modal-gpu-lint's source tree (the
# project has no public home yet, so no web address is invented). `modal-gpu-lint rule CODE`
# prints the same text anywhere.
DOCS_URL = "docs/rules.md#{code}"


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Metadata of one rule code, given by keyword; `valid`/`invalid` examples become tests."""

    code: str
    name: str
    default: bool
    fix: Applicability | None
    summary: str  # one line: what it flags
    why: str  # why it matters
    example: str  # code that triggers it
    instead: str  # the fixed code
    fix_note: str = ""  # what the fix does and how safe it is
    valid: tuple[str, ...] = ()  # code that must stay silent (module text, `import modal` and `app` provided)
    invalid: tuple[str, ...] = ()  # code that must fire (each exactly one finding of this code)

    @property
    def url(self) -> str:
        """Where the rule is documented."""
        return rule_url(self.code)


def rule_url(code: str) -> str:
    """Where the rule `code` is documented."""
    return DOCS_URL.format(code=code.lower())
