"""What a checker is given for one module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from modal_gpu_lint.analysis.sites import ModuleFacts, Site
from modal_gpu_lint.analysis.values import Value
from modal_gpu_lint.facts.catalog import Catalog
from modal_gpu_lint.findings import Finding


@dataclass(frozen=True)
class Context:
    """One module's facts plus the settings in force."""

    facts: ModuleFacts
    catalog: Catalog
    fix_timeout: int
    selected: frozenset[str]

    def values(self, site: Site, expr: cst.BaseExpression) -> list[Value]:
        """Every value an argument of `site` may take."""
        return self.facts.resolver.evaluate(expr, site.scopes)

    def wants(self, *codes: str) -> bool:
        """Whether any of `codes` is selected (checkers skip work otherwise)."""
        return any(code in self.selected for code in codes)


Checker = Callable[[Context], Iterator[Finding]]
