"""What a checker is given for one module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from modal_gpu_lint.analysis.origins import origin
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

    def origin(self, site: Site, arg: cst.Arg, value: object) -> str | None:
        """Where an argument's value (`value`, one of those it may take) comes from when it is not
        written at the call (for messages)."""
        splat = self.facts.stand_ins.get(id(arg))
        if isinstance(splat, cst.Arg):  # `**OPTIONS`: the entry of the dict
            line = self.facts.line_of(arg.value)
            where = f" (line {line})" if line is not None else ""
            return f"{cst.Module([]).code_for_node(splat.value)}{where}"
        return origin(self.facts.resolver, arg.value, site.scopes, self.facts.line_of, value)

    def wants(self, *codes: str) -> bool:
        """Whether any of `codes` is selected (checkers skip work otherwise)."""
        return any(code in self.selected for code in codes)


Checker = Callable[[Context], Iterator[Finding]]
