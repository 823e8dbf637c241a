"""Module-level constants of the project's own modules, for `from .config import GPU` and
`import settings; settings.TIMEOUT` (the command line and flake8 follow them as mypy does).

A module is found the way Python would find it when the importing file's folder, or the folder
holding its top package, is on `sys.path`: `from settings import X` in `app/main.py` reads
`app/settings.py`, `from app.settings import X` reads it from the folder above the package `app`,
`from .config import X` reads the package's `config.py`. Only constants are read, with the standard
library's `ast` (fast; no libcst): a name bound once by a plain top-level statement to a literal, a
list of literals, an f-string or `+` of such constants, `int()`/`str()`/`float()` of one, or an
environment variable's default (`os.environ.get("GPU", "T4")`). Each file is read once per process
(again when its size or mtime changes); what a lint read is listed in `dependencies`, so the result
cache can tell when an imported module changed.
"""

from __future__ import annotations

import ast
import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from modal_gpu_lint.analysis.values import UNKNOWN, ListValue, Value

_UNKNOWN: Value = UNKNOWN
_MAX_ALTERNATIVES = 16
_MAX_BYTES = 2_000_000  # a generated module this large holds no GPU constants worth reading


@dataclass(frozen=True)
class Constant:
    """A module-level constant of a project module: its values, where it is, and the environment
    variable it defaults, if it does."""

    values: tuple[Value, ...]
    path: str
    line: int
    env: tuple[str, Value] | None = None  # (variable, default)

    def where(self) -> str:
        """`settings.py:3`."""
        return f"{os.path.basename(self.path)}:{self.line}"


@dataclass(frozen=True)
class _Module:
    stat: tuple[int, int]
    digest: str
    constants: dict[str, Constant]


_MODULES: dict[str, _Module | None] = {}


def find_module(importer: str, module: str, level: int) -> str | None:
    """The project file `from MODULE import ...` (at `level` dots) in `importer` reads, if any."""
    return _find(os.path.dirname(os.path.abspath(importer)), module, level)


@lru_cache(maxsize=4096)
def _find(folder: str, module: str, level: int) -> str | None:
    parts = [p for p in module.split(".") if p] if module else []
    if level:
        for _ in range(level - 1):
            folder = os.path.dirname(folder)
        return _module_file(folder, parts) if parts else None
    if not parts:
        return None
    while True:
        found = _module_file(folder, parts)
        if found is not None:
            return found
        if not os.path.isfile(os.path.join(folder, "__init__.py")):
            return None  # above the top package: what is there is not on the path the program runs with
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _module_file(folder: str, parts: list[str]) -> str | None:
    base = os.path.join(folder, *parts)
    for candidate in (os.path.join(base, "__init__.py"), base + ".py"):  # a package wins, as in Python
        if os.path.isfile(candidate):
            return candidate
    return None


def constants_of(path: str) -> tuple[dict[str, Constant], str] | None:
    """The constants of one file and the digest of its bytes (None when it cannot be read or parsed)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    stat = (info.st_size, info.st_mtime_ns)
    known = _MODULES.get(path)
    if known is not None and known.stat == stat:
        return known.constants, known.digest
    if info.st_size > _MAX_BYTES:
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        tree = ast.parse(data, filename=path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        _MODULES[path] = None
        return None
    module = _Module(stat, hashlib.blake2b(data, digest_size=16).hexdigest(), _Reader(path, tree).read())
    _MODULES[path] = module
    return module.constants, module.digest


def file_digest(path: str) -> str | None:
    """The digest `constants_of` recorded for `path` as it is now (None: gone or unreadable)."""
    found = constants_of(path)
    return found[1] if found is not None else None


class _Reader:
    """Evaluates a module's top-level constants in order."""

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.known: dict[str, Constant] = {}
        self.os_names = {"os"}  # names bound to the os module (`import os as o`)
        self.everywhere = _bindings(tree)  # also: a module's own `int` is not the builtin

    def read(self) -> dict[str, Constant]:
        once = _bound_once(self.tree, self.everywhere)
        for statement in self.tree.body:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.name == "os" and alias.asname:
                        self.os_names.add(alias.asname)
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            if len(targets) != 1 or value is None or not isinstance(targets[0], ast.Name):
                continue
            name = targets[0].id
            if name not in once:
                continue
            self.env: tuple[str, Value] | None = None
            values = self.evaluate(value, 0)
            if values and len(values) <= _MAX_ALTERNATIVES and all(v is not _UNKNOWN for v in values):
                self.known[name] = Constant(tuple(values), self.path, statement.lineno, self.env)
        return self.known

    def evaluate(self, node: ast.expr, depth: int) -> list[Value]:
        if depth > 16:
            return [_UNKNOWN]
        if isinstance(node, ast.Constant):
            value = node.value
            return [value] if value is None or isinstance(value, (str, int, float, bool)) else [_UNKNOWN]
        if isinstance(node, ast.Name):
            constant = self.known.get(node.id)
            if constant is None:
                return [_UNKNOWN]
            if constant.env is not None:
                self.env = constant.env
            return list(constant.values)
        if isinstance(node, ast.List):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return [_UNKNOWN]
            items = [self.evaluate(e, depth + 1) for e in node.elts]
            if any(len(i) != 1 or i[0] is _UNKNOWN for i in items):
                return [_UNKNOWN]
            return [ListValue(tuple(i[0] for i in items))]
        if isinstance(node, ast.JoinedStr):
            pieces: list[list[Value]] = []
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    pieces.append([part.value])
                elif isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
                    values = self.evaluate(part.value, depth + 1)
                    pieces.append([_text(v) for v in values])
                else:
                    return [_UNKNOWN]
            return _combine(pieces)
        if isinstance(node, ast.BinOp):
            left, right = self.evaluate(node.left, depth + 1), self.evaluate(node.right, depth + 1)
            return [_arith(node.op, a, b) for a, b in product(left, right)][: _MAX_ALTERNATIVES + 1]
        if isinstance(node, ast.IfExp):
            return self.evaluate(node.body, depth + 1) + self.evaluate(node.orelse, depth + 1)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return [_UNKNOWN]

    def _call(self, node: ast.Call, depth: int) -> list[Value]:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("int", "str", "float") and func.id not in self.everywhere:
            if len(node.args) != 1 or node.keywords:
                return [_UNKNOWN]
            return [_convert(func.id, v) for v in self.evaluate(node.args[0], depth + 1)]
        if not self._is_env_getter(func):
            return [_UNKNOWN]
        default = next((k.value for k in node.keywords if k.arg == "default"), None)
        if default is None and len(node.args) >= 2:
            default = node.args[1]
        variable = node.args[0] if node.args else None
        if default is None or not isinstance(variable, ast.Constant) or not isinstance(variable.value, str):
            return [_UNKNOWN]
        values = self.evaluate(default, depth + 1)
        if len(values) == 1:
            self.env = (variable.value, values[0])
        return values

    def _is_env_getter(self, func: ast.expr) -> bool:
        """`os.environ.get` or `os.getenv`."""
        if not isinstance(func, ast.Attribute):
            return False
        owner = func.value
        if func.attr == "getenv":
            return isinstance(owner, ast.Name) and owner.id in self.os_names
        return (
            func.attr == "get"
            and isinstance(owner, ast.Attribute)
            and owner.attr == "environ"
            and isinstance(owner.value, ast.Name)
            and owner.value.id in self.os_names
        )


def _bindings(tree: ast.Module) -> Counter[str]:
    """How often each name is bound anywhere in the module (a def, class, import, `global` or
    `nonlocal` counts twice: never a plain constant); a local binding counts too."""
    everywhere: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            everywhere[node.id] += 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                everywhere[name] += 2
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            everywhere[node.name] += 2
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                everywhere[(alias.asname or alias.name).split(".")[0]] += 2
    return everywhere


def _bound_once(tree: ast.Module, everywhere: Counter[str]) -> set[str]:
    """Names bound exactly once in the whole module, by a plain top-level assignment (not in an
    `if`, a loop, a function with `global`...)."""
    top: Counter[str] = Counter()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            if isinstance(statement.targets[0], ast.Name):
                top[statement.targets[0].id] += 1
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            top[statement.target.id] += 1
    # A name stored inside a function is local there, but `global` would make it ours: counted above.
    return {name for name, count in top.items() if count == 1 and everywhere[name] == 1}


def _text(value: Value) -> Value:
    if value is _UNKNOWN or isinstance(value, bool) or not isinstance(value, (str, int)):
        return _UNKNOWN
    try:
        return str(value)
    except ValueError:  # an int beyond Python's limit on digits converted to text
        return _UNKNOWN


def _combine(pieces: list[list[Value]]) -> list[Value]:
    out: list[Value] = []
    for combo in product(*pieces):
        if any(not isinstance(c, str) for c in combo):
            return [_UNKNOWN]
        out.append("".join(str(c) for c in combo))
        if len(out) > _MAX_ALTERNATIVES:
            return [_UNKNOWN]
    return out


def _convert(kind: str, value: Value) -> Value:
    if value is _UNKNOWN or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return _UNKNOWN
    try:
        return int(value) if kind == "int" else float(value) if kind == "float" else str(value)
    except (ValueError, OverflowError):
        return _UNKNOWN


def _arith(op: ast.operator, a: Value, b: Value) -> Value:
    if a is _UNKNOWN or b is _UNKNOWN:
        return _UNKNOWN
    if isinstance(op, ast.Add) and isinstance(a, str) and isinstance(b, str):
        return a + b
    numbers = (int, float)
    if not (isinstance(a, numbers) and isinstance(b, numbers)) or isinstance(a, bool) or isinstance(b, bool):
        return _UNKNOWN
    try:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.FloorDiv):
            return a // b
        if isinstance(op, ast.Div):
            return a / b
    except (ZeroDivisionError, OverflowError):
        return _UNKNOWN
    return _UNKNOWN
