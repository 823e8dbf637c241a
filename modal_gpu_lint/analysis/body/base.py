"""The body reader's state, its walk in source order, and the value helpers every part uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from modal_gpu_lint.analysis.body.facts import BodyFacts, Pending, Use
from modal_gpu_lint.analysis.body.tree import children, positional_arg
from modal_gpu_lint.analysis.resolve import Assigned, Resolver, Scope, comprehension_scope, function_scope, method_scope
from modal_gpu_lint.analysis.values import Value

CUDA_DEVICE = re.compile(r"^cuda(?::\d+)?$")

# What `BodyReader.walk` acts on (classes libcst never subclasses, so `type(node) in` is isinstance).
READ_KINDS = frozenset(
    {
        cst.FunctionDef,
        cst.Lambda,
        cst.ListComp,
        cst.SetComp,
        cst.DictComp,
        cst.GeneratorExp,
        cst.Call,
        cst.Attribute,
        cst.Assign,
        cst.AssignTarget,
        cst.Del,
        cst.Comparison,
        cst.For,
        cst.While,
        cst.If,
        cst.Try,
        cst.Match,
        cst.AugAssign,
    }
)
# Statements whose bodies may run or not (or many times): an argv grown there is grown conditionally.
BRANCHES = frozenset({cst.If, cst.For, cst.While, cst.Try, cst.Match})


@dataclass(frozen=True, eq=False)
class Growth:
    """`cmd += [...]`, `cmd.extend([...])` or `cmd.append(x)` on a name, in source order."""

    seq: int  # order among growths and commands
    items: cst.BaseExpression  # the list (or string) added, or the one item appended
    one: bool  # `append`: `items` is one element
    augmented: bool  # `+=` (binds the name once more)
    conditional: bool  # under an if / loop / try / match of the body
    scopes: tuple[Scope, ...]


class ReaderBase:
    """State and helpers; the parts (CUDA, model loads, launch commands) add the visits."""

    def __init__(self, resolver: Resolver, scopes: tuple[Scope, ...], pins: dict[str, str]) -> None:
        self.resolver = resolver
        self.base_depth = len(scopes)
        self.scopes: list[Scope] = list(scopes)
        self.saved: list[list[Scope]] = []
        self.class_scopes: set[int] = set()
        self.pins = pins
        self.facts = BodyFacts()
        self.assigned_to: dict[int, str] = {}  # id(call) -> code of the name it is assigned to
        self.mutated: set[str] = set()  # names of lists changed in place (`cmd.extend(...)`)
        self.commands: list[tuple[cst.Call, str, list[Scope], int]] = []  # + the order they come in
        self.growths: dict[str, list[Growth]] = {}  # argv lists grown in place, by name
        self.seq = 0  # counts growths and commands
        self.current_seq = 0  # the order of the command being read
        self.conditional = 0  # depth of if / loop / try / match around the node being visited
        self.pending: list[Pending] = []
        self.moved: set[str] = set()  # code of expressions moved with .to("cuda") / .cuda()
        self.moved_calls: set[int] = set()
        self.timed_events: list[Use] = []
        self.name_tests: list[tuple[cst.CSTNode, list[str]]] = []  # strings compared with the GPU name
        self.elapsed = False
        self.loops = False
        self._empty = cst.Module(body=[])

    def enter_function(self, node: cst.FunctionDef | cst.Lambda) -> None:
        self.saved.append(self.scopes)
        owner = self.scopes[-1].owner if self.scopes and id(self.scopes[-1]) in self.class_scopes else None
        scope = method_scope(node, owner) if isinstance(node, cst.FunctionDef) else function_scope(node)
        self.scopes = [s for s in self.scopes if id(s) not in self.class_scopes] + [scope]

    def leave_function(self) -> None:
        self.scopes = self.saved.pop()

    def walk(self, root: cst.CSTNode) -> None:
        """Visit `root` and everything under it in source order (an explicit stack: no recursion
        limit, and none of the node rebuilding that libcst's visitors do)."""
        stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            kind = type(node)
            if leaving:
                if kind is cst.FunctionDef or kind is cst.Lambda:
                    self.leave_function()
                elif kind in BRANCHES:
                    self.conditional -= 1
                else:
                    self.scopes.pop()
                continue
            if kind not in READ_KINDS:  # most nodes: skip the isinstance chain (ABC checks are slow)
                stack.extend((child, False) for child in reversed(children(node)))
                continue
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                self.enter_function(node)
                stack.append((node, True))
            elif isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
                self.loops = True
                self.scopes.append(comprehension_scope(node))
                stack.append((node, True))
            elif isinstance(node, cst.Call):
                self.visit_Call(node)
            elif isinstance(node, cst.Attribute):
                self.visit_Attribute(node)
            elif isinstance(node, cst.Assign):
                self.visit_Assign(node)
            elif isinstance(node, (cst.AssignTarget, cst.Del)):
                target = node.target
                if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                    self.mutated.add(target.value.value)  # `cmd[1] = ...`, `del cmd[0]`
            elif isinstance(node, cst.Comparison):
                self.visit_Comparison(node)
            elif isinstance(node, cst.AugAssign):
                self.visit_AugAssign(node)
            elif kind in BRANCHES:
                if kind is cst.For or kind is cst.While:
                    self.loops = True
                self.conditional += 1
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(children(node)))

    @property
    def here(self) -> tuple[Scope, ...]:
        return tuple(self.scopes)

    def code(self, node: cst.CSTNode) -> str:
        return self._empty.code_for_node(node)

    def short(self, node: cst.CSTNode, limit: int = 60) -> str:
        text = " ".join(self.code(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def method_text(self, call: cst.Call) -> str:
        """`model.cuda()`, `....to("cuda")`: the receiver shortened, the method call in full."""
        assert isinstance(call.func, cst.Attribute)
        value = call.func.value
        receiver = f"{self.short(value.func, 30)}(...)" if isinstance(value, cst.Call) else self.short(value, 30)
        args = self.short(cst.Call(func=cst.Name("f"), args=call.args), 30)[1:]
        return f"{receiver}.{call.func.attr.value}{args}"

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return self.resolver.qualify(expr, self.here)

    def values(self, expr: cst.BaseExpression, scopes: tuple[Scope, ...] | None = None) -> list[Value]:
        return self.resolver.evaluate(expr, scopes if scopes is not None else self.here)

    def known_str(self, expr: cst.BaseExpression) -> list[str] | None:
        values = self.values(expr)
        if values and all(isinstance(v, str) for v in values):
            return [v for v in values if isinstance(v, str)]
        return None

    def known_int(self, expr: cst.BaseExpression) -> list[int] | None:
        values = self.values(expr)
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return [v for v in values if isinstance(v, int)]
        return None

    def is_true(self, expr: cst.BaseExpression) -> bool | None:
        """True / False when every value says so; None when not known."""
        values = self.values(expr)
        if values and all(v is True for v in values):
            return True
        if values and all(v is False or v is None or v == 0 for v in values):
            return False
        return None

    def grow(self, name: str, items: cst.BaseExpression, *, one: bool, augmented: bool) -> None:
        """Note an in-place growth of the list (or string) `name`, read with the commands at the end."""
        self.seq += 1
        growth = Growth(self.seq, items, one, augmented, self.conditional > 0, self.here)
        self.growths.setdefault(name, []).append(growth)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, cst.Name):
            if isinstance(node.operator, cst.AddAssign):
                self.grow(target.value, node.value, one=False, augmented=True)
            else:
                self.mutated.add(target.value)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self.mutated.add(target.value.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.value, cst.Call):
            target = node.targets[0].target
            if isinstance(target, (cst.Name, cst.Attribute)):
                self.assigned_to[id(node.value)] = self.code(target)

    def is_cuda(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Whether `expr` surely names a CUDA device: "cuda", "cuda:0", torch.device("cuda")."""
        if depth > 8:
            return False
        if isinstance(expr, cst.Call):
            first = positional_arg(expr, 0)
            return self.qualify(expr.func) == "torch.device" and first is not None and self.is_cuda(first, depth + 1)
        if isinstance(expr, cst.Name):
            found, where = self.resolver.lookup(expr.value, self.here)
            if len(found) == 1 and isinstance(found[0], Assigned) and isinstance(found[0].value, cst.Call):
                call = found[0].value
                first = positional_arg(call, 0)
                if self.resolver.qualify(call.func, where) == "torch.device" and first is not None:
                    values = self.values(first, where)
                    return bool(values) and all(isinstance(v, str) and CUDA_DEVICE.match(v) for v in values)
        values = self.values(expr)
        return bool(values) and all(isinstance(v, str) and CUDA_DEVICE.match(v) is not None for v in values)

    # ---- what the parts define ------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        raise NotImplementedError

    def visit_Attribute(self, node: cst.Attribute) -> None:
        raise NotImplementedError

    def visit_Comparison(self, node: cst.Comparison) -> None:
        raise NotImplementedError
