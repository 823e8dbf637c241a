"""The flake8 door: the same engine on flake8's `lines`, reported as `MGLxxx message`.

flake8 does the filtering: `--select`, `--extend-ignore`, `per-file-ignores` and `# noqa` (with
flake8's own noqa pattern, which `noqa.py` copies, on the row we report). Rules that are off by
default (MGL009, ...) go into flake8's default ignore list, so they stay off until selected. The
engine runs only the rules flake8's selection can show (asked once, of flake8's own decision
engine), as the CLI runs only its `--select`: a run that selects no MGL code parses nothing.
From `[tool.modal-gpu-lint]` the catalog additions (`gpus`), `fix-timeout`, `target-modal-version`
(else the project's `modal` requirement) and `upgrade-notes` are read; rule selection there is
the command line's.

flake8 hands every plugin the `ast` tree it built: the nesting guard and the gate
(`analysis.gate`) run on that tree, and libcst and the rules are imported only when a file
can hold a Modal call site (a flake8 run over a tree without Modal code never imports them).
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator, Sequence
from typing import Any

from modal_gpu_lint import __version__
from modal_gpu_lint.analysis.gate import may_have_sites
from modal_gpu_lint.analysis.nesting import ensure_recursion_limit, tree_problem
from modal_gpu_lint.rules.table import RULES  # not rules.registry: that imports the checkers and libcst
from modal_gpu_lint.run.config import ConfigError, Settings, load_settings
from modal_gpu_lint.run.engine import may_have_findings

Violation = tuple[int, int, str, type[Any]]


class Plugin:
    """flake8 checker plugin; flake8 makes one per file, passing `tree`, `lines` and `filename`.

    `tree` (the `ast` flake8 builds for every file anyway) feeds the nesting guard and the gate;
    the rules read libcst's tree, built from `lines` only for a file that passes them.
    """

    name = "modal-gpu-lint"
    version = __version__

    settings: Settings | None = None  # set by `parse_options`, read from the cwd's pyproject.toml
    codes: frozenset[str] = frozenset(RULES)  # the rules flake8 may show (set by `parse_options`)

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        """Keep default-off rules off unless `--select`/`--extend-select` names them."""
        option_manager.extend_default_ignore(sorted(code for code, rule in RULES.items() if not rule.default))

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """Read the nearest `[tool.modal-gpu-lint]` (catalog additions, `fix-timeout`, the target
        Modal version), and keep the codes flake8's `--select`/`--ignore` (and their `extend-` forms) leave on."""
        try:
            cls.settings = load_settings()
        except ConfigError as error:
            from flake8.exceptions import ExecutionError  # type: ignore[import-untyped]

            raise ExecutionError(f"modal-gpu-lint: {error}") from None
        cls.codes = shown_codes(options)

    def run(self) -> Iterator[Violation]:
        """Yield `(row, 0-based column, "MGLxxx message", type)` for every finding."""
        if not self.codes:
            return
        text = "".join(self.lines)
        if not may_have_findings(text.encode("utf-8", "surrogatepass")):
            return
        ensure_recursion_limit()
        if tree_problem(self.tree, text) is not None:
            return  # libcst would crash the whole flake8 run or stall on it (see nesting.py)
        if not may_have_sites(self.tree, text):
            return
        from modal_gpu_lint.analysis.cst_parse import parse_module
        from modal_gpu_lint.run.engine import analyze, to_diagnostics

        try:
            module = parse_module(text)
        except Exception:  # flake8 reports syntax errors itself (E999)
            return
        settings = self.settings if self.settings is not None else _default_settings()
        analysis = analyze(module, text, settings, self.codes, noqa=False, path=self.filename)
        for d in to_diagnostics(self.filename, module, text, analysis):
            yield d.row, d.column - 1, f"{d.code} {d.message}", type(self)


def shown_codes(options: argparse.Namespace) -> frozenset[str]:
    """The rule codes flake8 reports with these options. `per-file-ignores` and `# noqa` only
    remove more, per file or line, so flake8 still filters what the plugin yields. Every code
    when flake8's decision engine cannot be asked (another flake8 than the one this was written
    against): then flake8 filters all of it, as before."""
    try:
        from flake8.style_guide import Decision, DecisionEngine  # type: ignore[import-untyped]

        engine = DecisionEngine(options)
        return frozenset(code for code in RULES if engine.decision_for(code) is Decision.Selected)
    except (ImportError, AttributeError, TypeError, ValueError):  # a renamed class or a missing option
        return frozenset(RULES)


def _default_settings() -> Settings:
    """Settings when flake8 did not call `parse_options` (a library use of the class)."""
    return Settings()
