"""Name binding and constant evaluation, per scope, without libcst metadata providers.

A scope maps each name to how it is bound (import, assignment, def, parameter...). The linter
only trusts what it can see: a name bound more than once, a parameter, an attribute or a call
evaluates to UNKNOWN, and every rule stays silent on UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import libcst as cst

from modal_gpu_lint.analysis.argparse_options import Option, constructor_known, options
from modal_gpu_lint.analysis.project_index import Constant, constants_of, find_module
from modal_gpu_lint.analysis.scopes import (
    OPAQUE,
    Assigned,
    Binding,
    Defined,
    ImportedName,
    LoopItem,
    ModuleRef,
    Opaque,
    ParsedArgs,
    Scope,
    class_scope,
    comprehension_scope,
    forget_scopes,
    function_scope,
    method_scope,
    module_scope,
)
from modal_gpu_lint.analysis.value_ops import CONVERSIONS, assigned_attributes, convert, gpu_object_text
from modal_gpu_lint.analysis.values import UNKNOWN, GpuObject, KnownType, ListValue, OtherValue, Unknown, Value
from modal_gpu_lint.facts.modal_api import NOT_MODAL, project_app

__all__ = [
    "ENV_GETTERS",
    "OPAQUE",
    "Assigned",
    "Binding",
    "Defined",
    "ImportedName",
    "LoopItem",
    "ModuleRef",
    "Opaque",
    "Resolver",
    "Scope",
    "class_scope",
    "comprehension_scope",
    "forget_scopes",
    "function_scope",
    "is_unknown",
    "method_scope",
    "module_scope",
]

_KEYWORD_CONSTANTS: dict[str, Value] = {"True": True, "False": False, "None": None}
ENV_GETTERS = {"os.environ.get", "os.getenv"}
_CUSTOM_INIT = ("__init__", "__post_init__", "__new__")
_MAX_ALTERNATIVES = 32
_MAX_DEPTH = 24
_APP_CONSTRUCTORS = {"modal.App", "modal.Stub", "modal.App.lookup"}


class Resolver:
    """Answers what a name or expression is, looking through a stack of scopes."""

    def __init__(self, module_scope: Scope, module: cst.Module | None = None, path: str | None = None) -> None:
        self.module_scope = module_scope
        self.module = module  # for attribute values: None reads no attribute
        self.path = path  # the file, for constants imported from the project: None follows no import
        self.dependencies: dict[str, str] = {}  # project files whose constants were read -> their digest
        # attribute names the module assigns anywhere (`self.gpu = ...`), when the call finder has
        # collected them in its pass ("*": a `setattr` with a computed name); None: walk the module
        self.assigned: frozenset[str] | set[str] | None = None
        self._argparse: tuple[str, dict[str, Option | None] | None] | None = None  # parser name -> its options

    def imported(self, module: str, name: str, level: int) -> Constant | None:
        """The constant `from MODULE import NAME` reads from a module of the project, if it is one."""
        if self.path is None or (not level and (module.split(".")[0] == "modal" or NOT_MODAL.match(module))):
            return None
        file = find_module(self.path, module, level)
        found = constants_of(file) if file is not None else None
        if file is None or found is None:
            return None
        constants, digest = found
        self.dependencies[file] = digest
        return constants.get(name)

    def bindings(self, name: str, scopes: Sequence[Scope]) -> list[Binding]:
        """The bindings of `name` in the innermost scope that binds it ([] if none)."""
        return self.lookup(name, scopes)[0]

    def lookup(self, name: str, scopes: Sequence[Scope]) -> tuple[list[Binding], tuple[Scope, ...]]:
        """The bindings of `name`, and the scope stack where they were made (to evaluate them in)."""
        for depth in range(len(scopes) - 1, -1, -1):
            if scopes[depth].is_class and depth != len(scopes) - 1:
                continue  # a method does not see the names of its class body
            found = scopes[depth].bindings.get(name)
            if found:
                return found, tuple(scopes[: depth + 1])
        return self.module_scope.bindings.get(name, []), ()

    # ---- what an expression names -------------------------------------------------------
    def qualify(self, expr: cst.BaseExpression, scopes: Sequence[Scope], depth: int = 0) -> str | None:
        """The dotted name `expr` refers to, e.g. "modal.App", or None when not known."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Attribute):
            head = self.qualify(expr.value, scopes, depth + 1)
            return None if head is None else f"{head}.{expr.attr.value}"
        if not isinstance(expr, cst.Name):
            return None
        found: set[str] = set()
        bindings, scopes = self.lookup(expr.value, scopes)
        for binding in bindings:
            if isinstance(binding, ModuleRef):
                found.add(binding.module)
            elif isinstance(binding, ImportedName) and binding.level == 0:
                found.add(f"{binding.module}.{binding.name}")
            elif isinstance(binding, Assigned) and binding.value is not None:
                if _is_none(binding.value):
                    continue  # `except ImportError: modal = None`
                imported = self._import_module_call(binding.value, scopes, depth)
                if imported is None:
                    return None
                found.add(imported)
            else:
                return None
        return found.pop() if len(found) == 1 else None

    def _import_module_call(self, value: cst.BaseExpression, scopes: Sequence[Scope], depth: int) -> str | None:
        if not isinstance(value, cst.Call) or not value.args:
            return None
        if self.qualify(value.func, scopes, depth + 1) != "importlib.import_module":
            return None
        name = value.args[0].value
        if isinstance(name, cst.SimpleString):
            text = name.evaluated_value
            return text if isinstance(text, str) else None
        return None

    def is_modal(self, expr: cst.BaseExpression, scopes: Sequence[Scope], *paths: str) -> bool:
        """Whether `expr` names one of the `modal.X` paths given."""
        return self.qualify(expr, scopes) in paths

    def is_app(self, expr: cst.BaseExpression, scopes: Sequence[Scope]) -> bool:
        """Whether `expr` is a Modal App: built here with `modal.App(...)` or imported from the project.

        Every binding of the name must agree; `app = None` (an import fallback) does not count
        against it, but does not make it an App on its own either.
        """
        if isinstance(expr, cst.Call):
            return self.qualify(expr.func, scopes) in _APP_CONSTRUCTORS
        if isinstance(expr, cst.Attribute):
            return self._is_project_app_attribute(expr, scopes)
        if not isinstance(expr, cst.Name):
            return False
        found, scopes = self.lookup(expr.value, scopes)
        apps = 0
        for binding in found:
            if isinstance(binding, Assigned):
                if binding.value is not None and _is_none(binding.value):
                    continue  # `except ImportError: app = None`
                if binding.value is None or not isinstance(binding.value, cst.Call):
                    return False
                if self.qualify(binding.value.func, scopes) not in _APP_CONSTRUCTORS:
                    return False
            elif isinstance(binding, ImportedName):
                if not project_app(binding.module, binding.name):
                    return False
            else:
                return False
            apps += 1
        return apps > 0

    def _is_project_app_attribute(self, expr: cst.Attribute, scopes: Sequence[Scope]) -> bool:
        """`common.app` after `import common` (or `import pkg.common`): an App imported from the project."""
        if not isinstance(expr.value, (cst.Name, cst.Attribute)):
            return False
        found = self.bindings(_root_name(expr.value), scopes)
        if not found or not all(isinstance(b, ModuleRef) for b in found):
            return False
        module = self.qualify(expr.value, scopes)
        return module is not None and project_app(module, expr.attr.value)

    def decorated_by_app(self, node: cst.FunctionDef | cst.ClassDef, method: str, scopes: Sequence[Scope]) -> bool:
        """Whether `node` carries `@app.<method>(...)` (or the bare `@app.<method>`)."""
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if isinstance(expr, cst.Attribute) and expr.attr.value == method and self.is_app(expr.value, scopes):
                return True
        return False

    # ---- what an expression evaluates to ------------------------------------------------
    def evaluate(self, expr: cst.BaseExpression, scopes: Sequence[Scope], depth: int = 0) -> list[Value]:
        """Every value `expr` may take (UNKNOWN where the source does not say)."""
        if depth > _MAX_DEPTH:
            return [UNKNOWN]
        values = self._evaluate(expr, scopes, depth + 1)
        return values[:_MAX_ALTERNATIVES] if len(values) <= _MAX_ALTERNATIVES else [UNKNOWN]

    def _evaluate(self, expr: cst.BaseExpression, scopes: Sequence[Scope], depth: int) -> list[Value]:
        if isinstance(expr, cst.SimpleString):
            text = expr.evaluated_value
            return [text] if isinstance(text, str) else [OtherValue("bytes")]
        if isinstance(expr, cst.ConcatenatedString):
            return self._concat(self.evaluate(expr.left, scopes, depth), self.evaluate(expr.right, scopes, depth))
        if isinstance(expr, cst.FormattedString):
            return self._fstring(expr, scopes, depth)
        if isinstance(expr, (cst.Integer, cst.Float)):
            return [expr.evaluated_value]
        if isinstance(expr, cst.Imaginary):
            return [OtherValue("a complex number")]
        if isinstance(expr, cst.Name):
            return self._name(expr, scopes, depth)
        if isinstance(expr, cst.IfExp):
            return self.evaluate(expr.body, scopes, depth) + self.evaluate(expr.orelse, scopes, depth)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, scopes, depth)
        if isinstance(expr, cst.UnaryOperation):
            return self._unary(expr, scopes, depth)
        if isinstance(expr, cst.List):
            return self._list(expr, scopes, depth)
        if isinstance(expr, cst.Tuple):
            return [OtherValue("a tuple")]
        if isinstance(expr, (cst.Dict, cst.DictComp)):
            return [OtherValue("a dict")]
        if isinstance(expr, (cst.Set, cst.SetComp)):
            return [OtherValue("a set")]
        if isinstance(expr, cst.Call):
            return self._call(expr, scopes, depth)
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            return self._or(expr, scopes, depth)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, scopes, depth)
        return [UNKNOWN]

    def _or(self, expr: cst.BooleanOperation, scopes: Sequence[Scope], depth: int) -> list[Value]:
        """`os.environ.get("GPU") or "T4"`: the left value when it is true, the right one when it is not."""
        out: list[Value] = []
        right: list[Value] | None = None
        for value in self.evaluate(expr.left, scopes, depth):
            truth = _truth(value)
            if truth is not False:
                out.append(value if truth else UNKNOWN)
            if truth is not True:
                right = self.evaluate(expr.right, scopes, depth) if right is None else right
                out.extend(right)
        return out

    def _name(self, expr: cst.Name, scopes: Sequence[Scope], depth: int) -> list[Value]:
        if expr.value in _KEYWORD_CONSTANTS:
            return [_KEYWORD_CONSTANTS[expr.value]]
        found, where = self.lookup(expr.value, scopes)
        if len(found) != 1:
            return [UNKNOWN]
        binding = found[0]
        if isinstance(binding, LoopItem):
            return self._loop_items(binding.iterable, where, depth)
        if isinstance(binding, ImportedName) and binding.module == "modal.gpu" and not binding.level:
            return [GpuObject(None, binding.name, gpu_object_text(binding.name, None, lambda e: []))]
        if isinstance(binding, ImportedName):
            constant = self.imported(binding.module, binding.name, binding.level)
            return list(constant.values) if constant is not None else [UNKNOWN]
        if not isinstance(binding, Assigned) or binding.value is None:
            return [UNKNOWN]
        return self.evaluate(binding.value, where, depth)

    def _loop_items(self, iterable: cst.BaseExpression, scopes: Sequence[Scope], depth: int) -> list[Value]:
        """`for kind in ["T4", "L4"]`: each item of a literal list or tuple (or a name bound once to one)."""
        if isinstance(iterable, cst.Name):
            found, where = self.lookup(iterable.value, scopes)
            if len(found) != 1 or not isinstance(found[0], Assigned):
                return [UNKNOWN]
            value = found[0].value
            return self._loop_items(value, where, depth + 1) if isinstance(value, (cst.List, cst.Tuple)) else [UNKNOWN]
        if not isinstance(iterable, (cst.List, cst.Tuple)) or not iterable.elements:
            return [UNKNOWN]
        out: list[Value] = []
        for element in iterable.elements:
            if isinstance(element, cst.StarredElement):
                return [UNKNOWN]
            out.extend(self.evaluate(element.value, scopes, depth))
        return out

    # ---- attributes: `self.model_id`, `cls.GPU`, `CONFIG.gpu`, `Settings.GPU` -------------------
    def _attribute(self, expr: cst.Attribute, scopes: Sequence[Scope], depth: int) -> list[Value]:
        qualified = self.qualify(expr, scopes)
        if qualified is not None and qualified.startswith("modal.gpu.") and qualified.count(".") == 2:
            type_name = qualified.rsplit(".", 1)[1]  # the bare class `modal.gpu.H100`
            return [GpuObject(None, type_name, gpu_object_text(type_name, None, lambda e: []))]
        if not isinstance(expr.value, cst.Name) or self.module is None:
            return [UNKNOWN]
        found, where = self.lookup(expr.value.value, scopes)
        if len(found) != 1:
            return [UNKNOWN]
        binding = found[0]
        if isinstance(binding, (ModuleRef, ImportedName)):
            constant = self.module_attribute(expr, scopes)
            return list(constant.values) if constant is not None else [UNKNOWN]
        if not isinstance(binding, (Opaque, Assigned, Defined, ParsedArgs)):
            return [UNKNOWN]
        attr = expr.attr.value
        assigned = self.assigned if self.assigned is not None else assigned_attributes(self.module)
        if attr in assigned or "*" in assigned:
            return [UNKNOWN]  # set somewhere (`self.gpu = gpu`, `CONFIG.gpu = ...`): not the default
        if isinstance(binding, ParsedArgs):
            option = self._option(binding, attr, scopes)
            if option is None:
                return [UNKNOWN]
            values = self.evaluate(option.default, (), depth)
            return (
                [convert(option.type_name, v) if isinstance(v, str) else v for v in values]
                if option.type_name
                else values
            )
        if isinstance(binding, Opaque) and where:
            method = where[-1]
            if method.method_of is not None and method.first_param == expr.value.value:
                return self._class_attribute(method.method_of, attr, where[:-1], depth)
        elif isinstance(binding, Assigned) and isinstance(binding.value, cst.Call):
            return self._instance_attribute(binding.value, attr, where, depth)
        elif isinstance(binding, Defined) and isinstance(binding.node, cst.ClassDef):
            return self._class_attribute(binding.node, attr, where, depth)
        return [UNKNOWN]

    def parsed_option(self, expr: cst.Attribute, scopes: Sequence[Scope]) -> Option | None:
        """The argparse option `args.NAME` reads, after `args = parser.parse_args()`."""
        if not isinstance(expr.value, cst.Name) or self.module is None:
            return None
        found, _ = self.lookup(expr.value.value, scopes)
        if len(found) != 1 or not isinstance(found[0], ParsedArgs):
            return None
        return self._option(found[0], expr.attr.value, scopes)

    def _option(self, binding: ParsedArgs, dest: str, scopes: Sequence[Scope]) -> Option | None:
        """The option `dest` of a parser made at module level by `argparse.ArgumentParser(...)`."""
        parser = binding.parser
        if not isinstance(parser, cst.Name) or self.module is None:
            return None
        found = self.module_scope.bindings.get(parser.value, [])
        if self.lookup(parser.value, scopes)[0] is not found or len(found) != 1:
            return None  # shadowed by a local name, or bound more than once
        made = found[0]
        if not isinstance(made, Assigned) or not isinstance(made.value, cst.Call):
            return None
        if self.qualify(made.value.func, ()) != "argparse.ArgumentParser" or not constructor_known(made.value):
            return None
        if self._argparse is None or self._argparse[0] != parser.value:
            self._argparse = (parser.value, options(self.module, parser.value))
        declared = self._argparse[1]
        return declared.get(dest) if declared is not None else None

    def module_attribute(self, expr: cst.Attribute, scopes: Sequence[Scope]) -> Constant | None:
        """`settings.GPU` after `import settings` or `from app import settings`: a project constant."""
        if not isinstance(expr.value, cst.Name) or self.path is None:
            return None
        found, _ = self.lookup(expr.value.value, scopes)
        if len(found) != 1:
            return None
        binding = found[0]
        if isinstance(binding, ModuleRef):
            return self.imported(binding.module, expr.attr.value, 0)
        if isinstance(binding, ImportedName):
            module = f"{binding.module}.{binding.name}" if binding.module else binding.name
            return self.imported(module, expr.attr.value, binding.level)
        return None

    def _class_attribute(self, node: cst.ClassDef, attr: str, outer: Sequence[Scope], depth: int) -> list[Value]:
        """The value a class body binds `attr` to (a class attribute, or a dataclass field's default)."""
        scope = class_scope(node)
        found = scope.bindings.get(attr, [])
        if len(found) != 1 or not isinstance(found[0], Assigned) or found[0].value is None:
            return [UNKNOWN]  # inherited, bound twice, a method...
        enclosing = (*tuple(s for s in outer if s.owner is not node), scope)
        return self.evaluate(found[0].value, enclosing, depth)

    def _instance_attribute(self, call: cst.Call, attr: str, scopes: Sequence[Scope], depth: int) -> list[Value]:
        """`CONFIG.gpu` after `CONFIG = AppConfig(gpu=...)`, AppConfig a class of this module without
        its own `__init__`: the keyword given, else the class default."""
        if not isinstance(call.func, cst.Name):
            return [UNKNOWN]
        found, where = self.lookup(call.func.value, scopes)
        if len(found) != 1 or not isinstance(found[0], Defined) or not isinstance(found[0].node, cst.ClassDef):
            return [UNKNOWN]
        node = found[0].node
        if any(name in class_scope(node).bindings for name in _CUSTOM_INIT):
            return [UNKNOWN]
        for arg in call.args:
            if arg.star or arg.keyword is None:
                return [UNKNOWN]  # positional fields, or a splat
            if arg.keyword.value == attr:
                return self.evaluate(arg.value, scopes, depth)
        return self._class_attribute(node, attr, where, depth)

    def _concat(self, left: list[Value], right: list[Value]) -> list[Value]:
        out: list[Value] = []
        for a, b in product(left, right):
            out.append(a + b if isinstance(a, str) and isinstance(b, str) else UNKNOWN)
        return out

    def _fstring(self, expr: cst.FormattedString, scopes: Sequence[Scope], depth: int) -> list[Value]:
        pieces: list[list[Value]] = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append([part.value.replace("{{", "{").replace("}}", "}")])
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            if part.conversion is not None or part.format_spec is not None:
                return [UNKNOWN]
            pieces.append([convert("str", v) for v in self.evaluate(part.expression, scopes, depth)])
        out: list[Value] = []
        for combo in product(*pieces):
            out.append("".join(combo) if all(isinstance(c, str) for c in combo) else _known_type(combo))  # type: ignore[arg-type]
            if len(out) > _MAX_ALTERNATIVES:
                return [UNKNOWN]
        return out

    def _binary(self, expr: cst.BinaryOperation, scopes: Sequence[Scope], depth: int) -> list[Value]:
        left = self.evaluate(expr.left, scopes, depth)
        right = self.evaluate(expr.right, scopes, depth)
        out: list[Value] = []
        for a, b in product(left, right):
            out.append(_arith(expr.operator, a, b))
        return out

    def _unary(self, expr: cst.UnaryOperation, scopes: Sequence[Scope], depth: int) -> list[Value]:
        out: list[Value] = []
        for v in self.evaluate(expr.expression, scopes, depth):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if isinstance(expr.operator, cst.Minus):
                    out.append(-v)
                    continue
                if isinstance(expr.operator, cst.Plus):
                    out.append(v)
                    continue
            out.append(UNKNOWN)
        return out

    def _list(self, expr: cst.List, scopes: Sequence[Scope], depth: int) -> list[Value]:
        items: list[Value] = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                return [UNKNOWN]
            values = self.evaluate(element.value, scopes, depth)
            items.append(values[0] if len(values) == 1 else UNKNOWN)
        return [ListValue(tuple(items))]

    def _call(self, expr: cst.Call, scopes: Sequence[Scope], depth: int) -> list[Value]:
        func = expr.func
        if isinstance(func, cst.Name) and func.value in CONVERSIONS and not self.bindings(func.value, scopes):
            if len(expr.args) != 1 or expr.args[0].keyword is not None or expr.args[0].star:
                return [UNKNOWN]
            return [convert(func.value, v) for v in self.evaluate(expr.args[0].value, scopes, depth)]
        name = self.qualify(expr.func, scopes)
        if name is None:
            return [UNKNOWN]
        if name in ENV_GETTERS:
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            default = next((a for a in expr.args if a.keyword is not None and a.keyword.value == "default"), None)
            if default is None and len(positional) >= 2:
                default = positional[1]
            if default is None:
                return [UNKNOWN]
            return self.evaluate(default.value, scopes, depth)
        if name.startswith("modal.gpu.") and name.count(".") == 2:
            type_name = name.rsplit(".", 1)[1]
            text = gpu_object_text(type_name, expr, lambda e: self.evaluate(e, scopes, depth))
            return [GpuObject(expr, type_name, text)]
        return [UNKNOWN]


def _known_type(pieces: Sequence[Value]) -> Value:
    """An f-string with unknown parts: its type when every unknown part comes after the first `:`."""
    known = ""
    for piece in pieces:
        if not isinstance(piece, str):
            break
        known += piece
    if ":" not in known:
        return UNKNOWN
    written = "".join(p if isinstance(p, str) else "{...}" for p in pieces)
    return KnownType(known.split(":", 1)[0], written)


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _truth(value: Value) -> bool | None:
    """Whether a value is true, false, or not known."""
    if isinstance(value, (Unknown, OtherValue)):
        return None
    if isinstance(value, (GpuObject, KnownType)):
        return True
    if isinstance(value, ListValue):
        return bool(value.items)
    return bool(value)


def _root_name(expr: cst.BaseExpression) -> str:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else ""


def _arith(op: cst.BaseBinaryOp, a: Value, b: Value) -> Value:
    if isinstance(a, str) and isinstance(b, str) and isinstance(op, cst.Add):
        return a + b
    numbers = (int, float)
    if not (isinstance(a, numbers) and isinstance(b, numbers)) or isinstance(a, bool) or isinstance(b, bool):
        return UNKNOWN
    try:
        if isinstance(op, cst.Add):
            return a + b
        if isinstance(op, cst.Subtract):
            return a - b
        if isinstance(op, cst.Multiply):
            return a * b
        if isinstance(op, cst.Divide):
            return a / b
        if isinstance(op, cst.FloorDivide):
            return a // b
        if isinstance(op, cst.Modulo):
            return a % b
        if isinstance(op, cst.Power) and abs(b) <= 64:
            return a**b
    except (ZeroDivisionError, OverflowError):
        return UNKNOWN
    return UNKNOWN


def is_unknown(value: Value) -> bool:
    """Whether the source does not fix `value`."""
    return isinstance(value, Unknown)
