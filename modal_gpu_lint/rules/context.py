"""What a checker is given for one module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from ..catalog import Catalog
from ..findings import Finding
from ..sites import ModuleFacts, Site
from ..values import Value


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
