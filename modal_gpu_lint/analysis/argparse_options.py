"""argparse options a module declares: after `parser.add_argument("--gpu", default="H100")` and
`args = parser.parse_args()`, `args.gpu` is "H100" whenever the program runs without `--gpu`, which
is how a Modal container imports it.

Only a parser used in ways that cannot change a default is read: `add_argument` calls with
literal option strings, and parsing. `set_defaults`, argument groups, subparsers, the parser
passed to a function, `parents=`, `argument_default=`: the options are unknown, and so are their
values.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from modal_gpu_lint.analysis.walk import visit

# Methods that neither add an option nor change a default.
_HARMLESS = frozenset(
    {"parse_args", "parse_known_args", "parse_intermixed_args", "print_help", "print_usage", "format_help", "error"}
)
# Constructor keywords that change what options or defaults exist.
_CONSTRUCTOR_UNKNOWN = frozenset(
    {"parents", "argument_default", "prefix_chars", "conflict_handler", "fromfile_prefix_chars"}
)
_TYPES = frozenset({"int", "float", "str"})


@dataclass(frozen=True, eq=False)
class Option:
    """One `add_argument` whose default is what the program gets when the option is not given."""

    flag: str  # "--gpu"
    call: cst.Call  # the add_argument call
    default: cst.BaseExpression
    type_name: str | None  # "int", "float" or "str" (argparse converts a string default), else None


def constructor_known(call: cst.Call) -> bool:
    """Whether `argparse.ArgumentParser(...)` leaves the defaults to its `add_argument` calls."""
    return all(arg.keyword is not None and arg.keyword.value not in _CONSTRUCTOR_UNKNOWN for arg in call.args)


def options(module: cst.Module, parser: str) -> dict[str, Option | None] | None:
    """dest -> Option for each option the module-level parser named `parser` declares (None for an
    option whose value a default does not fix: required, a flag action, nargs...). None when the
    parser is used in a way that may add options or change defaults unseen."""
    finder = _Uses(parser)
    visit(module, finder)
    if finder.unknown:
        return None
    out: dict[str, Option | None] = {}
    for call, top_level in finder.adds:
        declared = _declare(call)
        if declared is None:
            return None  # option strings not written out: any dest may be it
        dest, option = declared
        if dest in out or not top_level:
            out[dest] = None  # declared twice, or in a function that may or may not run
        else:
            out[dest] = option
    return out


class _Uses(cst.CSTVisitor):
    """Every use of the name `parser` in the module: `add_argument` calls (and whether they run at
    module level), harmless methods; anything else makes the options unknown."""

    def __init__(self, parser: str) -> None:
        self.parser = parser
        self.adds: list[tuple[cst.Call, bool]] = []
        self.unknown = False
        self.depth = 0  # inside a function or class body
        self.seen: set[int] = set()  # Name nodes already accounted for

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.parser:
            self.seen.add(id(func.value))
            if func.attr.value == "add_argument":
                self.adds.append((node, self.depth == 0))
            elif func.attr.value not in _HARMLESS:
                self.unknown = True

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:  # `parser = argparse.ArgumentParser(...)`: the binding itself
            if isinstance(target.target, cst.Name) and target.target.value == self.parser:
                self.seen.add(id(target.target))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.parser and id(node) not in self.seen:
            self.unknown = True  # passed to a function, stored, rebound...

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value == self.parser and id(node.value) not in self.seen:
            self.unknown = True  # `parser.set_defaults`, `parser.add_argument_group`, taken as a value
            return False
        return True


def _declare(call: cst.Call) -> tuple[str, Option | None] | None:
    """(dest, option) of one add_argument call; None when its option strings are not literal."""
    flags: list[str] = []
    keywords: dict[str, cst.BaseExpression] = {}
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            text = arg.value.evaluated_value if isinstance(arg.value, cst.SimpleString) else None
            if not isinstance(text, str) or not text:
                return None
            flags.append(text)
        else:
            keywords[arg.keyword.value] = arg.value
    if not flags:
        return None
    dest_node = keywords.get("dest")
    written = dest_node.evaluated_value if isinstance(dest_node, cst.SimpleString) else None
    if dest_node is not None and not isinstance(written, str):
        return None
    dest = written if isinstance(written, str) else None
    positional = not flags[0].startswith("-")
    if dest is None:
        long = next((f for f in flags if f.startswith("--")), None)
        dest = flags[0] if positional else (long or flags[0]).lstrip("-").replace("-", "_")
    flag = next((f for f in flags if f.startswith("--")), flags[0])
    return dest, _option(flag, call, keywords, positional)


def _option(flag: str, call: cst.Call, keywords: dict[str, cst.BaseExpression], positional: bool) -> Option | None:
    nargs = _literal(keywords.get("nargs"))
    if "nargs" in keywords and nargs != "?":
        return None
    if positional and nargs != "?":
        return None  # a required positional: the default never runs
    if "action" in keywords and _literal(keywords["action"]) != "store":
        return None
    if "required" in keywords and _literal(keywords["required"]) is not False:
        return None
    default = keywords.get("default")
    if default is None:
        return None  # None: the caller must give it, or the code tests for it
    type_node = keywords.get("type")
    type_name = type_node.value if isinstance(type_node, cst.Name) else None
    if type_node is not None and type_name not in _TYPES:
        return None
    return Option(flag, call, default, type_name)


_CONSTANTS: dict[str, object] = {"True": True, "False": False, "None": None}


def _literal(node: cst.BaseExpression | None) -> object:
    """A keyword's literal value: a string or True/False/None; None when absent, `...` when not literal."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in _CONSTANTS:
        return _CONSTANTS[node.value]
    return None if node is None else ...
