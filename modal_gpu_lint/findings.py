"""The shared types that flow from rules to fixes and output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # only in annotations: importing this module must not import libcst
    import libcst as cst

Applicability = Literal["safe", "unsafe"]


@dataclass(frozen=True, eq=False)
class Replace:
    """Replace `node` by `new` (a node of a compatible kind)."""

    node: cst.CSTNode
    new: cst.CSTNode


@dataclass(frozen=True, eq=False)
class Remove:
    """Remove `node` from its parent (an argument, an import name, a decorator, a statement).

    `above`: comment lines right above `node` that the fix has written elsewhere; they go too.
    """

    node: cst.CSTNode
    above: tuple[cst.EmptyLine, ...] = ()


@dataclass(frozen=True, eq=False)
class InsertDecorator:
    """Insert `decorator` into `target`'s decorators right after `after`."""

    target: cst.FunctionDef | cst.ClassDef
    after: cst.Decorator
    decorator: cst.Decorator


@dataclass(frozen=True)
class AddImport:
    """Make sure the module has `import MODULE` at top level."""

    module: str


Change = Replace | Remove | InsertDecorator | AddImport


@dataclass(frozen=True, eq=False)
class Fix:
    """A way to make a finding go away, as changes to the parse tree."""

    applicability: Applicability
    message: str
    changes: tuple[Change, ...]


@dataclass(eq=False)
class Finding:
    """A rule's verdict on a node, before positions are known."""

    code: str
    message: str
    node: cst.CSTNode
    end_node: cst.CSTNode | None = None
    fix: Fix | None = None


@dataclass(frozen=True)
class Edit:
    """A text edit, as shown in JSON output (1-based rows and columns)."""

    content: str
    row: int
    column: int
    end_row: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    """A finding with its place in a file: what every output format prints."""

    path: str
    code: str
    message: str
    row: int
    column: int
    end_row: int
    end_column: int
    fix_applicability: Applicability | None = None
    fix_message: str = ""
    edits: tuple[Edit, ...] = field(default=())
    cell: int | None = None  # in a notebook: the cell (rows count from its first line)

    @property
    def noqa_row(self) -> int:
        """The line whose `# noqa` suppresses this diagnostic."""
        return self.row
